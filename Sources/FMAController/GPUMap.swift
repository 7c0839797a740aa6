import FMAJSON

/// FMA's `gpu-map` ConfigMap, read: for each node (a data key), a JSON object of GPU UUID →
/// index on that node. Direct-mode providers get `CUDA_VISIBLE_DEVICES` from it, so a
/// requester's GPU UUIDs must all be there, on the requester's node.
public struct GPUMap: Sendable, Equatable {
    public struct Location: Sendable, Hashable {
        public var node: String
        public var index: Int
    }

    /// The ConfigMap's name, as FMA's.
    public static let configMapName = "gpu-map"

    public private(set) var locations: [String: Location] = [:]
    /// Entries that could not be read (node → why), skipped as FMA skips them.
    public private(set) var skipped: [String: String] = [:]

    /// Reads the ConfigMap's `data`.
    public init(data: [String: String]) {
        for (node, text) in data.sorted(by: { $0.key < $1.key }) {
            guard let object = (try? JSONValue(parsing: Array(text.utf8)))?.object else {
                skipped[node] = "not a JSON object of GPU UUID to index"
                continue
            }
            for (uuid, value) in object {
                guard let index = value.int, index >= 0 else {
                    skipped[node] = "the index of \(uuid) is not a whole number from 0"
                    continue
                }
                locations[uuid] = Location(node: node, index: Int(index))
            }
        }
    }

    /// The UUIDs whose location is new or changed from `previous` (FMA re-reconciles every
    /// server when there are any).
    public func additions(since previous: GPUMap?) -> Int {
        locations.count { previous?.locations[$0.key] != $0.value }
    }

    /// The indices of `uuids` on `node`, in order; every problem at once, one a line, worded as
    /// FMA words them. `map` nil: the ConfigMap does not exist.
    public static func indices(of uuids: [String], on node: String, in map: GPUMap?) throws(ControllerError) -> [Int] {
        guard let map else { throw ControllerError("GPU map ConfigMap \(configMapName) is not available") }
        var indices: [Int] = []
        var problems: [String] = []
        for uuid in uuids {
            guard let location = map.locations[uuid] else {
                problems.append("UUID \(uuid) is not known")
                continue
            }
            guard location.node == node else {
                problems.append("UUID \(uuid) is on Node \(location.node), not \(node)")
                continue
            }
            indices.append(location.index)
        }
        guard problems.isEmpty else { throw ControllerError(problems.joined(separator: "\n")) }
        return indices
    }
}
