public import FMAJSON

/// A field selector: `field=value` and `field!=value` requirements joined by commas, where a
/// field is a dotted path into the object (`metadata.name`, `spec.nodeName`, `status.phase`).
/// A missing field reads as the empty string, as the API server treats it.
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    public struct Requirement: Sendable, Hashable {
        public var field: String {
            didSet { path = field.split(separator: ".").map(String.init) }
        }
        public var value: String
        public var negated: Bool
        /// `field` split at its dots, once: matching runs for every object listed and every
        /// change a watch sees.
        private(set) var path: [String]

        public init(field: String, value: String, negated: Bool = false) {
            self.field = field
            self.value = value
            self.negated = negated
            path = field.split(separator: ".").map(String.init)
        }
    }

    public var requirements: [Requirement]

    public init(_ requirements: [Requirement] = []) {
        self.requirements = requirements
    }

    /// `field=value` for each pair.
    public static func equals(_ field: String, _ value: String) -> FieldSelector {
        FieldSelector([Requirement(field: field, value: value)])
    }

    public var isEverything: Bool { requirements.isEmpty }

    public var description: String {
        requirements.map { "\($0.field)\($0.negated ? "!=" : "=")\($0.value)" }.joined(separator: ",")
    }

    public init(parsing text: String) throws(SelectorError) {
        var requirements: [Requirement] = []
        for part in text.split(separator: ",") {
            let item = part.trimmingSpaces()
            if item.isEmpty { continue }
            let negated: Bool
            let range: Range<String.Index>
            if let r = item.firstRange(of: "!=") {
                negated = true
                range = r
            } else if let r = item.firstRange(of: "==") ?? item.firstRange(of: "=") {
                negated = false
                range = r
            } else {
                throw SelectorError("invalid field selector requirement \"\(item)\" (expected field=value or field!=value)")
            }
            let field = String(item[..<range.lowerBound]).trimmingSpaces()
            guard !field.isEmpty else { throw SelectorError("invalid field selector requirement \"\(item)\": no field") }
            requirements.append(Requirement(field: field, value: String(item[range.upperBound...]).trimmingSpaces(), negated: negated))
        }
        self.requirements = requirements
    }

    /// The value a field selector sees for `field` in `object`.
    public static func fieldValue(_ field: String, in object: JSONObject) -> String {
        fieldValue(at: field.split(separator: ".").map(String.init), in: object)
    }

    private static func fieldValue(at path: [String], in object: JSONObject) -> String {
        switch object[path: path] {
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case .bool(let b)?: return String(b)
        default: return ""
        }
    }

    public func matches(_ object: JSONObject) -> Bool {
        requirements.allSatisfy { requirement in
            (Self.fieldValue(at: requirement.path, in: object) == requirement.value) != requirement.negated
        }
    }
}
