import Foundation

/// Evaluates parsed CEL against named values (`object`, `oldObject`, `request`, `variables`):
/// CEL's semantics for what admission policies use — errors for a missing field or key, `&&`
/// and `||` that absorb an error when the other side decides, equality across int and double,
/// optionals (`.?`, `[?]`, `orValue`, `hasValue`, `value`, `optional.of`/`none`), the macros,
/// and the string, list and map functions (`size`, `matches`, `startsWith`, `endsWith`,
/// `contains`, `lowerAscii`, `upperAscii`, `trim`, `split`, `join`, `indexOf`).
struct CELEvaluator {
    /// Resolves a top-level name; nil when it is not declared.
    var resolve: (String) throws(CELError) -> CELValue?

    func evaluate(_ expression: CELExpr) throws(CELError) -> CELValue {
        try evaluate(expression, scope: [:])
    }

    private func evaluate(_ expression: CELExpr, scope: [String: CELValue]) throws(CELError) -> CELValue {
        switch expression {
        case .literal(let value):
            return value
        case .identifier(let name):
            if let value = scope[name] { return value }
            guard let value = try resolve(name) else { throw CELError("undeclared reference to '\(name)'") }
            return value
        case .select(let operand, let field, let optional):
            return try select(try evaluate(operand, scope: scope), .string(field), optional: optional, field: true)
        case .index(let operand, let index, let optional):
            return try select(try evaluate(operand, scope: scope), try evaluate(index, scope: scope), optional: optional, field: false)
        case .has(let operand, let field):
            switch try evaluate(operand, scope: scope) {
            case .map(let map): return .bool(map[.string(field)] != nil)
            case .optional(let inner):
                guard case .map(let map)? = inner else { return .bool(false) }
                return .bool(map[.string(field)] != nil)
            case let other: throw CELError("has() needs a map or object, got \(other.typeName)")
            }
        case .call(let name, let target, let arguments):
            if name == "optional.none", arguments.isEmpty { return .optional(nil) }
            let receiver = try target.map { (target) throws(CELError) in try evaluate(target, scope: scope) }
            var values: [CELValue] = []
            for argument in arguments { values.append(try evaluate(argument, scope: scope)) }
            return try CELFunctions.call(name, receiver: receiver, values)
        case .list(let items):
            var values: [CELValue] = []
            for item in items { values.append(try evaluate(item, scope: scope)) }
            return .list(values)
        case .map(let entries):
            var map: [CELValue: CELValue] = [:]
            for entry in entries {
                let key = try evaluate(entry.key, scope: scope)
                guard map[key] == nil else { throw CELError("repeated key in a map literal") }
                map[key] = try evaluate(entry.value, scope: scope)
            }
            return .map(map)
        case .not(let operand):
            guard case .bool(let value) = try evaluate(operand, scope: scope) else { throw CELError("no such overload: !_ needs a bool") }
            return .bool(!value)
        case .negate(let operand):
            switch try evaluate(operand, scope: scope) {
            case .int(let value):
                guard value != .min else { throw CELError("integer overflow") }
                return .int(-value)
            case .double(let value): return .double(-value)
            case let other: throw CELError("no such overload: -\(other.typeName)")
            }
        case .binary(let op, let left, let right):
            return try CELFunctions.binary(op, try evaluate(left, scope: scope), try evaluate(right, scope: scope))
        case .and(let left, let right):
            return try logical(left, right, decisive: false, scope: scope)
        case .or(let left, let right):
            return try logical(left, right, decisive: true, scope: scope)
        case .conditional(let condition, let then, let otherwise):
            guard case .bool(let value) = try evaluate(condition, scope: scope) else { throw CELError("a ?: condition must be a bool") }
            return try evaluate(value ? then : otherwise, scope: scope)
        case .comprehension(let kind, let range, let variable, let body, let filter):
            return try comprehension(kind, try evaluate(range, scope: scope), variable: variable, body: body, filter: filter, scope: scope)
        }
    }

    /// `&&` (decisive value false) and `||` (true): an error on one side gives way to the
    /// other side's decisive value.
    private func logical(_ left: CELExpr, _ right: CELExpr, decisive: Bool, scope: [String: CELValue]) throws(CELError) -> CELValue {
        var leftError: CELError?
        do throws(CELError) {
            switch try evaluate(left, scope: scope) {
            case .bool(let value) where value == decisive: return .bool(decisive)
            case .bool: break
            case let other: throw CELError("no such overload: \(other.typeName) \(decisive ? "||" : "&&") ...")
            }
        } catch {
            leftError = error
        }
        switch try evaluate(right, scope: scope) {
        case .bool(let value) where value == decisive: return .bool(decisive)
        case .bool(let value):
            if let leftError { throw leftError }
            return .bool(value)
        case let other: throw CELError("no such overload: ... \(decisive ? "||" : "&&") \(other.typeName)")
        }
    }

    /// `operand.key` (`field`) or `operand[key]`; optional ones answer an optional.
    private func select(_ operand: CELValue, _ key: CELValue, optional: Bool, field: Bool) throws(CELError) -> CELValue {
        // Worded only for an error: a selection is on every evaluation's path.
        var described: String {
            if field, case .string(let name) = key { return "field '\(name)'" }
            return "key \(CELFunctions.show(key))"
        }
        switch operand {
        case .optional(let inner):
            guard let inner else { return .optional(nil) }
            return try select(inner, key, optional: true, field: field)
        case .map(let map):
            if let value = map[key] ?? (CELFunctions.numericKey(key).flatMap { map[$0] }) {
                return optional ? .optional(value) : value
            }
            if optional { return .optional(nil) }
            throw CELError("no such key: \(described)")
        case .list(let items) where !field:
            guard case .int(let index) = key else { throw CELError("a list index must be an int, got \(key.typeName)") }
            guard index >= 0, index < items.count else {
                if optional { return .optional(nil) }
                throw CELError("index out of range: \(index)")
            }
            return optional ? .optional(items[Int(index)]) : items[Int(index)]
        case .null where optional:
            return .optional(nil)
        default:
            throw CELError("no such \(described) on a \(operand.typeName)")
        }
    }

    private func comprehension(_ kind: String, _ range: CELValue, variable: String, body: CELExpr, filter: CELExpr?,
                               scope: [String: CELValue]) throws(CELError) -> CELValue {
        let items: [CELValue]
        switch range {
        case .list(let values): items = values
        case .map(let map): items = Array(map.keys)
        default: throw CELError("\(kind)() needs a list or map, got \(range.typeName)")
        }
        var inner = scope
        func test(_ item: CELValue, _ expression: CELExpr) throws(CELError) -> Bool {
            inner[variable] = item
            guard case .bool(let value) = try evaluate(expression, scope: inner) else { throw CELError("\(kind)() needs a bool expression") }
            return value
        }
        switch kind {
        case "all", "exists":
            // Like && and ||: a decisive item wins over an error in another.
            let decisive = kind == "exists"
            var firstError: CELError?
            for item in items {
                do throws(CELError) {
                    if try test(item, body) == decisive { return .bool(decisive) }
                } catch {
                    firstError = firstError ?? error
                }
            }
            if let firstError { throw firstError }
            return .bool(!decisive)
        case "exists_one":
            var count = 0
            for item in items where try test(item, body) { count += 1 }
            return .bool(count == 1)
        case "filter":
            var kept: [CELValue] = []
            for item in items where try test(item, body) { kept.append(item) }
            return .list(kept)
        default:
            var mapped: [CELValue] = []
            for item in items {
                if let filter, !(try test(item, filter)) { continue }
                inner[variable] = item
                mapped.append(try evaluate(body, scope: inner))
            }
            return .list(mapped)
        }
    }
}
