import FMAJSON

/// A value of the Common Expression Language as admission policies see it: what Kubernetes
/// objects convert to (null, bool, int, double, string, list, map) plus CEL's optional values
/// (`obj.?field`, `.orValue(x)`).
indirect enum CELValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case list([CELValue])
    case map([CELValue: CELValue])
    /// An optional: `.some` holds a value, `.none` holds nothing.
    case optional(CELValue?)

    /// A JSON value as CEL sees it.
    init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .int(let value): self = .int(value)
        case .double(let value): self = .double(value)
        case .string(let value): self = .string(value)
        case .array(let items): self = .list(items.map(CELValue.init))
        case .object(let object): self = .map(Dictionary(object.map { (CELValue.string($0.key), CELValue($0.value)) }, uniquingKeysWith: { $1 }))
        }
    }

    /// CEL's name of the value's type, for errors ("no such overload: int + string").
    var typeName: String {
        switch self {
        case .null: "null_type"
        case .bool: "bool"
        case .int: "int"
        case .double: "double"
        case .string: "string"
        case .list: "list"
        case .map: "map"
        case .optional: "optional_type"
        }
    }
}
