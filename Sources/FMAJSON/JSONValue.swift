/// A JSON value that keeps what it was given: integers stay exact (`int`), numbers with a
/// fraction or exponent are `double`, and objects keep their keys in order. A Kubernetes object
/// read, changed in one field and written back therefore carries every other field unchanged,
/// including fields this project knows nothing about.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public var isNull: Bool { if case .null = self { true } else { false } }

    public var bool: Bool? { if case .bool(let v) = self { v } else { nil } }

    /// The value as an integer: an `int`, or a `double` with no fraction that fits.
    public var int: Int64? {
        switch self {
        case .int(let v): v
        case .double(let d): d.rounded() == d && abs(d) < 9.0e18 ? Int64(d) : nil
        default: nil
        }
    }

    public var double: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let d): d
        default: nil
        }
    }

    public var string: String? { if case .string(let v) = self { v } else { nil } }
    public var array: [JSONValue]? { if case .array(let v) = self { v } else { nil } }
    public var object: JSONObject? { if case .object(let v) = self { v } else { nil } }

    /// The member `key` of an object; `nil` for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        object?[key]
    }

    /// The value at a path of object keys, e.g. `["metadata", "name"]`.
    public subscript(path path: [String]) -> JSONValue? {
        var current: JSONValue? = self
        for key in path {
            current = current?[key]
        }
        return current
    }

    /// The name of the value's JSON type, for error messages ("expected object, got string").
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue {
    /// JSON has one number type: `2000` and `2000.0` are equal (and hash alike).
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.double(let a), .double(let b)): a == b
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): Double(a) == b && b.rounded() == b && Int64(exactly: b) == a
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .int(let i): hasher.combine(i)
        case .double(let d):
            if let i = Int64(exactly: d) { hasher.combine(i) } else { hasher.combine(d) }
        case .string(let s): hasher.combine(s)
        case .array(let a): hasher.combine(a)
        case .object(let o): hasher.combine(o)
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
}

extension JSONValue {
    /// A string-to-string map (labels, annotations) as a JSON object, keys sorted.
    public init(stringMap: [String: String]) {
        self = .object(JSONObject(stringMap.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
    }

    /// An object's members that are strings (labels, annotations); other members are skipped.
    public var stringMap: [String: String]? {
        guard let object else { return nil }
        var map: [String: String] = [:]
        for (key, value) in object {
            if let s = value.string { map[key] = s }
        }
        return map
    }
}
