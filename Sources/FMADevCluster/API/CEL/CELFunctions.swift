import Foundation

/// CEL's operators and the functions admission policies call, with CEL's error for a type
/// without the overload.
enum CELFunctions {
    static func binary(_ op: String, _ left: CELValue, _ right: CELValue) throws(CELError) -> CELValue {
        switch op {
        case "==": return .bool(equal(left, right))
        case "!=": return .bool(!equal(left, right))
        case "in":
            switch right {
            case .list(let items): return .bool(items.contains { equal($0, left) })
            case .map(let map): return .bool(map[left] != nil || numericKey(left).map { map[$0] != nil } == true)
            default: throw overload("in", left, right)
            }
        case "<", "<=", ">", ">=":
            guard let order = compare(left, right) else { throw overload(op, left, right) }
            switch op {
            case "<": return .bool(order < 0)
            case "<=": return .bool(order <= 0)
            case ">": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        default:
            return try arithmetic(op, left, right)
        }
    }

    private static func arithmetic(_ op: String, _ left: CELValue, _ right: CELValue) throws(CELError) -> CELValue {
        switch (left, right) {
        case (.int(let a), .int(let b)):
            let (value, overflow): (Int64, Bool)
            switch op {
            case "+": (value, overflow) = a.addingReportingOverflow(b)
            case "-": (value, overflow) = a.subtractingReportingOverflow(b)
            case "*": (value, overflow) = a.multipliedReportingOverflow(by: b)
            case "/", "%":
                guard b != 0 else { throw CELError(op == "/" ? "division by zero" : "modulus by zero") }
                (value, overflow) = op == "/" ? a.dividedReportingOverflow(by: b) : a.remainderReportingOverflow(dividingBy: b)
            default: throw overload(op, left, right)
            }
            guard !overflow else { throw CELError("integer overflow") }
            return .int(value)
        case (.double(let a), .double(let b)):
            switch op {
            case "+": return .double(a + b)
            case "-": return .double(a - b)
            case "*": return .double(a * b)
            case "/": return .double(a / b)
            default: throw overload(op, left, right)
            }
        case (.string(let a), .string(let b)) where op == "+":
            return .string(a + b)
        case (.list(let a), .list(let b)) where op == "+":
            return .list(a + b)
        default:
            throw overload(op, left, right)
        }
    }

    /// CEL's equality: across int and double by value, lists and maps element by element,
    /// values of different types unequal.
    static func equal(_ left: CELValue, _ right: CELValue) -> Bool {
        switch (left, right) {
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Double(a) == b
        case (.list(let a), .list(let b)): return a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        case (.map(let a), .map(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { equal(value, $0) } ?? false }
        default: return left == right
        }
    }

    private static func compare(_ left: CELValue, _ right: CELValue) -> Int? {
        func order<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a == b ? 0 : 1) }
        switch (left, right) {
        case (.int(let a), .int(let b)): return order(a, b)
        case (.double(let a), .double(let b)): return order(a, b)
        case (.int(let a), .double(let b)): return order(Double(a), b)
        case (.double(let a), .int(let b)): return order(a, Double(b))
        case (.string(let a), .string(let b)): return order(a, b)
        case (.bool(let a), .bool(let b)): return order(a ? 1 : 0, b ? 1 : 0)
        default: return nil
        }
    }

    /// The int key a whole double stands for in a map lookup, and the reverse.
    static func numericKey(_ key: CELValue) -> CELValue? {
        switch key {
        case .double(let value) where value.rounded() == value && abs(value) < 9.2e18: return .int(Int64(value))
        default: return nil
        }
    }

    static func call(_ name: String, receiver: CELValue?, _ arguments: [CELValue]) throws(CELError) -> CELValue {
        let all = (receiver.map { [$0] } ?? []) + arguments
        switch (name, all.count) {
        case ("size", 1):
            switch all[0] {
            case .string(let text): return .int(Int64(text.count))
            case .list(let items): return .int(Int64(items.count))
            case .map(let map): return .int(Int64(map.count))
            default: break
            }
        case ("matches", 2):
            if case .string(let text) = all[0], case .string(let pattern) = all[1] { return .bool(try matches(text, pattern)) }
        case ("startsWith", 2), ("endsWith", 2), ("contains", 2):
            if case .string(let text) = all[0], case .string(let part) = all[1] {
                return .bool(name == "startsWith" ? text.hasPrefix(part) : name == "endsWith" ? text.hasSuffix(part) : text.contains(part))
            }
        case ("lowerAscii", 1), ("upperAscii", 1), ("trim", 1):
            if case .string(let text) = all[0] {
                switch name {
                case "lowerAscii": return .string(String(text.map { $0.isASCII ? Character($0.lowercased()) : $0 }))
                case "upperAscii": return .string(String(text.map { $0.isASCII ? Character($0.uppercased()) : $0 }))
                default: return .string(text.trimmingCharacters(in: .whitespacesAndNewlines))
                }
            }
        case ("split", 2):
            if case .string(let text) = all[0], case .string(let separator) = all[1] {
                return .list(text.components(separatedBy: separator).map { .string($0) })
            }
        case ("join", 1), ("join", 2):
            if case .list(let items) = all[0] {
                var separator = ""
                if all.count == 2 {
                    guard case .string(let text) = all[1] else { break }
                    separator = text
                }
                var parts: [String] = []
                for item in items {
                    guard case .string(let text) = item else { throw CELError("join() needs a list of strings") }
                    parts.append(text)
                }
                return .string(parts.joined(separator: separator))
            }
        case ("indexOf", 2):
            if case .string(let text) = all[0], case .string(let part) = all[1] {
                guard let range = text.range(of: part) else { return .int(-1) }
                return .int(Int64(text.distance(from: text.startIndex, to: range.lowerBound)))
            }
        case ("orValue", 2):
            if case .optional(let inner) = all[0] { return inner ?? all[1] }
        case ("hasValue", 1):
            if case .optional(let inner) = all[0] { return .bool(inner != nil) }
        case ("value", 1):
            if case .optional(let inner) = all[0] {
                guard let inner else { throw CELError("optional.none() has no value") }
                return inner
            }
        case ("optional.of", 1):
            return .optional(all[0])
        case ("optional.ofNonZeroValue", 1):
            return .optional(isZero(all[0]) ? nil : all[0])
        case ("string", 1):
            switch all[0] {
            case .string: return all[0]
            case .int(let value): return .string(String(value))
            case .double(let value): return .string(String(value))
            case .bool(let value): return .string(String(value))
            default: break
            }
        case ("int", 1):
            switch all[0] {
            case .int: return all[0]
            case .double(let value) where value.isFinite && abs(value) < 9.2e18: return .int(Int64(value))
            case .string(let text):
                guard let value = Int64(text) else { throw CELError("cannot convert \"\(text)\" to int") }
                return .int(value)
            default: break
            }
        case ("dyn", 1):
            return all[0]
        default:
            break
        }
        let types = all.map(\.typeName).joined(separator: ", ")
        throw CELError("found no matching overload for '\(name)' applied to (\(types))")
    }

    private static func isZero(_ value: CELValue) -> Bool {
        switch value {
        case .null: true
        case .bool(let b): !b
        case .int(let i): i == 0
        case .double(let d): d == 0
        case .string(let s): s.isEmpty
        case .list(let l): l.isEmpty
        case .map(let m): m.isEmpty
        case .optional(let o): o == nil
        }
    }

    /// RE2 as CEL's `matches` means it: the pattern found anywhere in the text.
    private static func matches(_ text: String, _ pattern: String) throws(CELError) -> Bool {
        let expression: NSRegularExpression
        do {
            expression = try NSRegularExpression(pattern: pattern)
        } catch {
            throw CELError("invalid regular expression \"\(pattern)\"")
        }
        return expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// A value as CEL would print it in an error.
    static func show(_ value: CELValue) -> String {
        switch value {
        case .string(let text): "'\(text)'"
        case .int(let number): String(number)
        case .double(let number): String(number)
        case .bool(let flag): String(flag)
        default: value.typeName
        }
    }

    private static func overload(_ op: String, _ left: CELValue, _ right: CELValue) -> CELError {
        CELError("no such overload: \(left.typeName) \(op) \(right.typeName)")
    }
}
