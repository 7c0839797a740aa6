public import FMAJSON
import Yams

/// YAML read as JSON, the way Kubernetes tools read manifests and kubeconfigs: scalars by
/// their resolved tag (`true` a boolean, `8443` a number, `"8443"` a string), mappings with
/// string keys; an empty document is `null`.
public enum YAMLText {
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// The first document of `text` as JSON.
    public static func json(_ text: String) throws(ParseError) -> JSONValue {
        do {
            return try jsonValue(Yams.compose(yaml: text)) ?? .null
        } catch let error as ParseError {
            throw error
        } catch {
            throw ParseError(message: "not valid YAML: \(error)")
        }
    }

    static func jsonValue(_ node: Yams.Node?) throws(ParseError) -> JSONValue? {
        guard let node else { return nil }
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.description) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case .float: return node.float.map(JSONValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            var values: [JSONValue] = []
            for element in sequence {
                values.append(try jsonValue(element) ?? .null)
            }
            return .array(values)
        case .mapping(let mapping):
            var object = JSONObject()
            for (key, value) in mapping {
                guard let name = key.string else { throw ParseError(message: "mapping key is not a string: \(key)") }
                object[name] = try jsonValue(value) ?? .null
            }
            return .object(object)
        case .alias:
            return .null
        }
    }
}
