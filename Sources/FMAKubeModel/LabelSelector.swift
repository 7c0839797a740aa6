public import FMAJSON

/// A label selector, parsed from its string form (`app=web,tier!=db,env in (a,b),!legacy`) or
/// from a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions`). All requirements
/// must hold; the empty selector matches everything.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)

        func matches(_ labels: [String: String]) -> Bool {
            switch self {
            case .equals(let k, let v): labels[k] == v
            case .notEquals(let k, let v): labels[k] != v
            case .in(let k, let values): labels[k].map(values.contains) ?? false
            case .notIn(let k, let values): !(labels[k].map(values.contains) ?? false)
            case .exists(let k): labels[k] != nil
            case .doesNotExist(let k): labels[k] == nil
            }
        }

        var text: String {
            switch self {
            case .equals(let k, let v): "\(k)=\(v)"
            case .notEquals(let k, let v): "\(k)!=\(v)"
            case .in(let k, let values): "\(k) in (\(values.sorted().joined(separator: ",")))"
            case .notIn(let k, let values): "\(k) notin (\(values.sorted().joined(separator: ",")))"
            case .exists(let k): k
            case .doesNotExist(let k): "!\(k)"
            }
        }
    }

    public var requirements: [Requirement]

    public init(_ requirements: [Requirement] = []) {
        self.requirements = requirements
    }

    /// `key=value` for each entry, as `matchLabels` means.
    public init(matchLabels: [String: String]) {
        requirements = matchLabels.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) }
    }

    public var isEverything: Bool { requirements.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    /// The string form, as sent in `?labelSelector=`.
    public var description: String { requirements.map(\.text).joined(separator: ",") }

    /// Parses the string form. Errors name the offending requirement.
    public init(parsing text: String) throws(SelectorError) {
        var requirements: [Requirement] = []
        for part in Self.splitTopLevel(text) {
            let item = part.trimmingSpaces()
            if item.isEmpty { continue }
            requirements.append(try Self.parseRequirement(item))
        }
        self.requirements = requirements
    }

    /// Reads a `metav1.LabelSelector` object; `null` or `{}` select everything.
    public init(object: JSONValue?) throws(SelectorError) {
        var requirements: [Requirement] = []
        guard let object, !object.isNull else {
            self.requirements = []
            return
        }
        guard object.object != nil else { throw SelectorError("a label selector must be an object, got \(object.typeName)") }
        if let matchLabels = object["matchLabels"], !matchLabels.isNull {
            guard let map = matchLabels.object else { throw SelectorError("matchLabels must be an object") }
            for (key, value) in map.sorted(by: { $0.key < $1.key }) {
                guard let text = value.string else { throw SelectorError("matchLabels[\(key)] must be a string") }
                requirements.append(.equals(key, text))
            }
        }
        for (index, expression) in (object["matchExpressions"]?.array ?? []).enumerated() {
            guard let key = expression["key"]?.string, !key.isEmpty else { throw SelectorError("matchExpressions[\(index)]: missing key") }
            let values = expression["values"]?.array?.compactMap(\.string) ?? []
            switch expression["operator"]?.string {
            case "In":
                guard !values.isEmpty else { throw SelectorError("matchExpressions[\(index)]: operator In needs values") }
                requirements.append(.in(key, Set(values)))
            case "NotIn":
                guard !values.isEmpty else { throw SelectorError("matchExpressions[\(index)]: operator NotIn needs values") }
                requirements.append(.notIn(key, Set(values)))
            case "Exists":
                guard values.isEmpty else { throw SelectorError("matchExpressions[\(index)]: operator Exists takes no values") }
                requirements.append(.exists(key))
            case "DoesNotExist":
                guard values.isEmpty else { throw SelectorError("matchExpressions[\(index)]: operator DoesNotExist takes no values") }
                requirements.append(.doesNotExist(key))
            case let other:
                throw SelectorError("matchExpressions[\(index)]: unknown operator \(other.map { "\"\($0)\"" } ?? "(none)") (In, NotIn, Exists, DoesNotExist)")
            }
        }
        self.requirements = requirements
    }

    /// Splits on commas that are not inside parentheses.
    private static func splitTopLevel(_ text: String) -> [Substring] {
        var parts: [Substring] = []
        var depth = 0
        var start = text.startIndex
        for index in text.indices {
            switch text[index] {
            case "(": depth += 1
            case ")": depth -= 1
            case "," where depth == 0:
                parts.append(text[start..<index])
                start = text.index(after: index)
            default: break
            }
        }
        parts.append(text[start...])
        return parts
    }

    private static func parseRequirement(_ item: String) throws(SelectorError) -> Requirement {
        if item.hasPrefix("!") {
            let key = String(item.dropFirst()).trimmingSpaces()
            try validateKey(key, in: item)
            return .doesNotExist(key)
        }
        if let range = item.firstRange(of: "!=") {
            let key = String(item[..<range.lowerBound]).trimmingSpaces()
            try validateKey(key, in: item)
            return .notEquals(key, String(item[range.upperBound...]).trimmingSpaces())
        }
        if let range = item.firstRange(of: "==") ?? item.firstRange(of: "=") {
            let key = String(item[..<range.lowerBound]).trimmingSpaces()
            try validateKey(key, in: item)
            return .equals(key, String(item[range.upperBound...]).trimmingSpaces())
        }
        let words = item.split(separator: " ", maxSplits: 1).map(String.init)
        if words.count == 2 {
            let key = words[0]
            let rest = words[1].trimmingSpaces()
            let isNotIn = rest.hasPrefix("notin")
            guard isNotIn || rest.hasPrefix("in") else { throw SelectorError("invalid requirement \"\(item)\" (expected in or notin after the key)") }
            let list = rest.dropFirst(isNotIn ? 5 : 2).trimmingSpaces()
            guard list.hasPrefix("("), list.hasSuffix(")") else { throw SelectorError("invalid requirement \"\(item)\": values must be in parentheses") }
            let values = Set(list.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty })
            guard !values.isEmpty else { throw SelectorError("invalid requirement \"\(item)\": no values") }
            try validateKey(key, in: item)
            return isNotIn ? .notIn(key, values) : .in(key, values)
        }
        try validateKey(item, in: item)
        return .exists(item)
    }

    private static func validateKey(_ key: String, in item: String) throws(SelectorError) {
        guard !key.isEmpty, !key.contains(where: { $0 == " " || $0 == "(" || $0 == ")" || $0 == "=" || $0 == "!" }) else {
            throw SelectorError("invalid label selector requirement \"\(item)\"")
        }
    }
}

/// Why a label or field selector could not be read.
public struct SelectorError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
