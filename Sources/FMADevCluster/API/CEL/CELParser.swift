/// A parsed CEL expression.
indirect enum CELExpr: Sendable {
    case literal(CELValue)
    case identifier(String)
    /// `operand.field`, or `operand.?field` (optional).
    case select(CELExpr, String, optional: Bool)
    /// `operand[index]`, or `operand[?index]` (optional).
    case index(CELExpr, CELExpr, optional: Bool)
    /// `function(args)` or `target.function(args)`.
    case call(String, target: CELExpr?, [CELExpr])
    case list([CELExpr])
    case map([(key: CELExpr, value: CELExpr)])
    case not(CELExpr)
    case negate(CELExpr)
    /// Arithmetic, comparison and `in`.
    case binary(String, CELExpr, CELExpr)
    case and(CELExpr, CELExpr)
    case or(CELExpr, CELExpr)
    case conditional(CELExpr, CELExpr, CELExpr)
    /// `has(operand.field)`.
    case has(CELExpr, String)
    /// The macros over a list or map: `all`, `exists`, `exists_one`, `filter`, `map`
    /// (`transform` is map's second form's filter).
    case comprehension(String, range: CELExpr, variable: String, body: CELExpr, filter: CELExpr?)
}

/// CEL's grammar by recursive descent: conditional, `||`, `&&`, relations (with `in`),
/// addition, multiplication, unary, member (select, optional select, index, call) and primary
/// (identifiers, global calls, parentheses, list and map literals, literals), with the `has`
/// and comprehension macros.
struct CELParser {
    private let tokens: [(token: CELToken, offset: Int)]
    private var position = 0

    static func parse(_ text: String) throws(CELError) -> CELExpr {
        var parser = CELParser(tokens: try CELLexer.tokens(text))
        let expression = try parser.expression()
        guard parser.peek == .end else { throw parser.unexpected("the end of the expression") }
        return expression
    }

    private init(tokens: [(token: CELToken, offset: Int)]) {
        self.tokens = tokens
    }

    private var peek: CELToken { tokens[position].token }

    private mutating func accept(_ symbol: String) -> Bool {
        guard peek == .symbol(symbol) else { return false }
        position += 1
        return true
    }

    private mutating func expect(_ symbol: String) throws(CELError) {
        guard accept(symbol) else { throw unexpected("'\(symbol)'") }
    }

    private func unexpected(_ wanted: String) -> CELError {
        let found = switch peek {
        case .end: "the end"
        case .identifier(let name): "'\(name)'"
        case .symbol(let symbol): "'\(symbol)'"
        case .int(let value): "\(value)"
        case .double(let value): "\(value)"
        case .string(let value): "\"\(value)\""
        }
        return CELError("expected \(wanted) at offset \(tokens[position].offset), found \(found)")
    }

    private mutating func expression() throws(CELError) -> CELExpr {
        let condition = try orExpression()
        guard accept("?") else { return condition }
        let then = try orExpression()
        try expect(":")
        return .conditional(condition, then, try expression())
    }

    private mutating func orExpression() throws(CELError) -> CELExpr {
        var left = try andExpression()
        while accept("||") { left = .or(left, try andExpression()) }
        return left
    }

    private mutating func andExpression() throws(CELError) -> CELExpr {
        var left = try relation()
        while accept("&&") { left = .and(left, try relation()) }
        return left
    }

    private mutating func relation() throws(CELError) -> CELExpr {
        var left = try addition()
        while true {
            if case .symbol(let symbol) = peek, ["<", "<=", ">", ">=", "==", "!="].contains(symbol) {
                position += 1
                left = .binary(symbol, left, try addition())
            } else if peek == .identifier("in") {
                position += 1
                left = .binary("in", left, try addition())
            } else {
                return left
            }
        }
    }

    private mutating func addition() throws(CELError) -> CELExpr {
        var left = try multiplication()
        while case .symbol(let symbol) = peek, symbol == "+" || symbol == "-" {
            position += 1
            left = .binary(symbol, left, try multiplication())
        }
        return left
    }

    private mutating func multiplication() throws(CELError) -> CELExpr {
        var left = try unary()
        while case .symbol(let symbol) = peek, ["*", "/", "%"].contains(symbol) {
            position += 1
            left = .binary(symbol, left, try unary())
        }
        return left
    }

    private mutating func unary() throws(CELError) -> CELExpr {
        if accept("!") { return .not(try unary()) }
        if accept("-") {
            // A negative literal stays a literal (so -9223372036854775808 parses).
            if case .int(let value) = peek { position += 1; return try member(.literal(.int(-value))) }
            if case .double(let value) = peek { position += 1; return try member(.literal(.double(-value))) }
            return .negate(try unary())
        }
        return try member(try primary())
    }

    private mutating func member(_ start: CELExpr) throws(CELError) -> CELExpr {
        var operand = start
        while true {
            if accept(".") || peek == .symbol(".?") {
                let optional = accept(".?")
                guard case .identifier(let name) = peek else { throw unexpected("a field name") }
                position += 1
                if !optional, accept("(") {
                    operand = try call(name, target: operand)
                } else {
                    operand = .select(operand, name, optional: optional)
                }
            } else if accept("[") || peek == .symbol("[?") {
                let optional = accept("[?")
                let index = try expression()
                try expect("]")
                operand = .index(operand, index, optional: optional)
            } else {
                return operand
            }
        }
    }

    private mutating func call(_ name: String, target: CELExpr?) throws(CELError) -> CELExpr {
        var arguments: [CELExpr] = []
        if !accept(")") {
            repeat { arguments.append(try expression()) } while accept(",")
            try expect(")")
        }
        if let target, ["all", "exists", "exists_one", "filter", "map"].contains(name) {
            guard case .identifier(let variable)? = arguments.first, (2...3).contains(arguments.count), name == "map" || arguments.count == 2 else {
                throw CELError("\(name)() takes a variable name and an expression")
            }
            let filter: CELExpr? = arguments.count == 3 ? arguments[1] : nil
            return .comprehension(name, range: target, variable: variable, body: arguments.last!, filter: filter)
        }
        if target == nil, name == "has" {
            guard arguments.count == 1, case .select(let operand, let field, optional: false) = arguments[0] else {
                throw CELError("has() takes a field selection, such as has(object.metadata.labels)")
            }
            return .has(operand, field)
        }
        return .call(name, target: target, arguments)
    }

    private mutating func primary() throws(CELError) -> CELExpr {
        let token = peek
        guard token != .end else { throw unexpected("an operand") }
        position += 1
        switch token {
        case .int(let value): return .literal(.int(value))
        case .double(let value): return .literal(.double(value))
        case .string(let value): return .literal(.string(value))
        case .identifier("true"): return .literal(.bool(true))
        case .identifier("false"): return .literal(.bool(false))
        case .identifier("null"): return .literal(.null)
        case .identifier(let name):
            if accept("(") { return try call(name, target: nil) }
            // optional.of(x), optional.none(): a namespaced global function.
            if name == "optional", peek == .symbol("."), case .identifier(let function) = tokens[position + 1].token,
               tokens[position + 2].token == .symbol("(") {
                position += 3
                return try call("optional.\(function)", target: nil)
            }
            return .identifier(name)
        case .symbol("("):
            let inner = try expression()
            try expect(")")
            return inner
        case .symbol("["):
            var items: [CELExpr] = []
            while !accept("]") {
                items.append(try expression())
                if !accept(",") { try expect("]"); break }
            }
            return .list(items)
        case .symbol("{"):
            var entries: [(key: CELExpr, value: CELExpr)] = []
            while !accept("}") {
                let key = try expression()
                try expect(":")
                entries.append((key, try expression()))
                if !accept(",") { try expect("}"); break }
            }
            return .map(entries)
        default:
            position -= 1
            throw unexpected("an operand")
        }
    }
}
