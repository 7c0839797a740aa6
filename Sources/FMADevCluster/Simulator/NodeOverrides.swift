public import FMAJSON
import FMAKubeModel

/// How one simulated node differs from the others, from `fma-devcluster serve --nodes-file`:
/// its own mock GPU count, extra labels, and extra allocatable resources (extended resources
/// such as `example.com/widget`, or its own `cpu`, `memory`, `pods`). Applied when the node is
/// created; afterwards `kubectl label node` and a status patch change a node as on any cluster.
public struct NodeOverrides: Sendable, Hashable {
    public var gpus: Int?
    public var labels: [String: String] = [:]
    /// Resource name → quantity, as written (also the node's capacity).
    public var allocatable: [String: String] = [:]

    public init(gpus: Int? = nil, labels: [String: String] = [:], allocatable: [String: String] = [:]) {
        self.gpus = gpus
        self.labels = labels
        self.allocatable = allocatable
    }

    /// Reads a nodes file's content (a mapping of node name → `gpus`, `labels`, `allocatable`).
    /// Errors name the node and the field, and say what is accepted.
    public static func parse(_ document: JSONValue, nodeNames: [String]) throws(NodeOverridesError) -> [String: NodeOverrides] {
        if document.isNull { return [:] }
        guard let nodes = document.object else { throw NodeOverridesError("expected a mapping of node names to their settings, got \(document.typeName)") }
        let known = Set(nodeNames)
        var result: [String: NodeOverrides] = [:]
        for (name, value) in nodes {
            guard known.contains(name) else {
                throw NodeOverridesError("node \"\(name)\" is not one of the simulated nodes (\(nodeNames.first ?? "none") … \(nodeNames.last ?? "none"); see --nodes)")
            }
            guard let entry = value.object else { throw NodeOverridesError("\(name): expected a mapping with gpus, labels or allocatable, got \(value.typeName)") }
            var overrides = NodeOverrides()
            for (key, field) in entry {
                switch key {
                case "gpus":
                    guard let count = field.int, (0...64).contains(count) else { throw NodeOverridesError("\(name).gpus: expected a GPU count from 0 to 64, got \(field.serializedString())") }
                    overrides.gpus = Int(count)
                case "labels":
                    overrides.labels = try strings(field, "\(name).labels")
                    for (label, text) in overrides.labels where label.isEmpty || label.count > 316 || text.count > 63 {
                        throw NodeOverridesError("\(name).labels: \"\(label)\": \"\(text)\" is not a valid label (key up to 316 characters, value up to 63)")
                    }
                case "allocatable":
                    overrides.allocatable = try strings(field, "\(name).allocatable")
                    for (resource, text) in overrides.allocatable {
                        if resource == SimulatedNode.gpuResource { throw NodeOverridesError("\(name).allocatable: give the GPU count as \(name).gpus, so the node's mock GPUs match it") }
                        do { _ = try Quantity(text) } catch { throw NodeOverridesError("\(name).allocatable[\(resource)]: \(error)") }
                    }
                default:
                    throw NodeOverridesError("\(name): unknown field \"\(key)\" (known: gpus, labels, allocatable)")
                }
            }
            result[name] = overrides
        }
        return result
    }

    /// A mapping of strings (numbers are taken as their text, as `kubectl` does for quantities).
    private static func strings(_ value: JSONValue, _ path: String) throws(NodeOverridesError) -> [String: String] {
        guard let object = value.object else { throw NodeOverridesError("\(path): expected a mapping, got \(value.typeName)") }
        var result: [String: String] = [:]
        for (key, field) in object {
            switch field {
            case .string(let text): result[key] = text
            case .int(let number): result[key] = String(number)
            case .double(let number): result[key] = String(number)
            default: throw NodeOverridesError("\(path)[\(key)]: expected a string, got \(field.typeName)")
            }
        }
        return result
    }
}

/// A nodes file that cannot be used, and why.
public struct NodeOverridesError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
