/// The tokens of a CEL expression.
enum CELToken: Sendable, Equatable {
    case identifier(String)
    case int(Int64)
    case double(Double)
    case string(String)
    /// Punctuation and operators: `( ) [ ] { } . , : ? ! - + * / % < <= > >= == != && || .? [?`
    case symbol(String)
    case end
}

/// Splits a CEL expression into tokens (CEL's lexical grammar: identifiers, decimal and hex
/// integers, doubles, single-, double- and triple-quoted strings with escapes, raw strings).
struct CELLexer {
    private let characters: [Character]
    private var position = 0

    init(_ text: String) {
        characters = Array(text)
    }

    static func tokens(_ text: String) throws(CELError) -> [(token: CELToken, offset: Int)] {
        var lexer = CELLexer(text)
        var tokens: [(CELToken, Int)] = []
        while true {
            let (token, offset) = try lexer.next()
            tokens.append((token, offset))
            if token == .end { return tokens }
        }
    }

    private static let symbols = ["<=", ">=", "==", "!=", "&&", "||", ".?", "[?", "(", ")", "[", "]", "{", "}", ".", ",", ":", "?", "!", "-", "+", "*", "/", "%", "<", ">"]

    private mutating func next() throws(CELError) -> (CELToken, Int) {
        skipSpaceAndComments()
        let start = position
        guard position < characters.count else { return (.end, start) }
        let c = characters[position]
        if c.isLetter || c == "_" {
            if (c == "r" || c == "R"), position + 1 < characters.count, characters[position + 1] == "\"" || characters[position + 1] == "'" {
                position += 1
                return (.string(try string(raw: true)), start)
            }
            var name = ""
            while position < characters.count, characters[position].isLetter || characters[position].isNumber || characters[position] == "_" {
                name.append(characters[position])
                position += 1
            }
            return (.identifier(name), start)
        }
        if c.isNumber || (c == "." && position + 1 < characters.count && characters[position + 1].isNumber) {
            return (try number(), start)
        }
        if c == "\"" || c == "'" {
            return (.string(try string(raw: false)), start)
        }
        for symbol in Self.symbols where matches(symbol) {
            position += symbol.count
            return (.symbol(symbol), start)
        }
        throw CELError("unexpected character '\(c)' at offset \(start)")
    }

    private func matches(_ symbol: String) -> Bool {
        var index = position
        for character in symbol {
            guard index < characters.count, characters[index] == character else { return false }
            index += 1
        }
        return true
    }

    private mutating func skipSpaceAndComments() {
        while position < characters.count {
            if characters[position].isWhitespace {
                position += 1
            } else if matches("//") {
                while position < characters.count, characters[position] != "\n" { position += 1 }
            } else {
                return
            }
        }
    }

    private mutating func number() throws(CELError) -> CELToken {
        let start = position
        if matches("0x") || matches("0X") {
            position += 2
            var digits = ""
            while position < characters.count, characters[position].isHexDigit {
                digits.append(characters[position])
                position += 1
            }
            if position < characters.count, characters[position] == "u" || characters[position] == "U" { position += 1 }
            guard let value = Int64(digits, radix: 16) else { throw CELError("invalid hex integer at offset \(start)") }
            return .int(value)
        }
        var text = ""
        var isDouble = false
        while position < characters.count {
            let c = characters[position]
            if c.isNumber {
                text.append(c)
            } else if c == ".", !isDouble, position + 1 < characters.count, characters[position + 1].isNumber {
                isDouble = true
                text.append(c)
            } else if c == "e" || c == "E" {
                isDouble = true
                text.append(c)
                if position + 1 < characters.count, characters[position + 1] == "+" || characters[position + 1] == "-" {
                    position += 1
                    text.append(characters[position])
                }
            } else {
                break
            }
            position += 1
        }
        if !isDouble, position < characters.count, characters[position] == "u" || characters[position] == "U" { position += 1 }
        if isDouble {
            guard let value = Double(text) else { throw CELError("invalid number \(text) at offset \(start)") }
            return .double(value)
        }
        guard let value = Int64(text) else { throw CELError("integer \(text) out of range at offset \(start)") }
        return .int(value)
    }

    private mutating func string(raw: Bool) throws(CELError) -> String {
        let start = position
        let quote = characters[position]
        let triple = matches(String(repeating: quote, count: 3))
        position += triple ? 3 : 1
        var value = ""
        while position < characters.count {
            let c = characters[position]
            if triple ? matches(String(repeating: quote, count: 3)) : c == quote {
                position += triple ? 3 : 1
                return value
            }
            if c == "\n", !triple { break }
            if c == "\\", !raw {
                position += 1
                guard position < characters.count else { break }
                value.append(try escape())
                continue
            }
            value.append(c)
            position += 1
        }
        throw CELError("unterminated string starting at offset \(start)")
    }

    private mutating func escape() throws(CELError) -> Character {
        let c = characters[position]
        position += 1
        switch c {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        case "\\", "'", "\"", "`", "?": return c
        case "a": return "\u{07}"
        case "b": return "\u{08}"
        case "f": return "\u{0C}"
        case "v": return "\u{0B}"
        case "u", "U", "x":
            let count = c == "u" ? 4 : c == "U" ? 8 : 2
            guard position + count <= characters.count, let scalar = UInt32(String(characters[position..<position + count]), radix: 16),
                  let unicode = Unicode.Scalar(scalar) else { throw CELError("invalid \\\(c) escape at offset \(position)") }
            position += count
            return Character(unicode)
        default:
            throw CELError("invalid escape \\\(c) at offset \(position - 1)")
        }
    }
}

/// A CEL expression that cannot be parsed, or whose evaluation failed (a missing field, a type
/// without the operation): the message says which.
struct CELError: Error, Sendable, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
