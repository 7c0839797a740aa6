public import FMARPC

/// Turns GPU UUIDs into the indices CUDA_VISIBLE_DEVICES takes.
public protocol GPUTranslator: Sendable {
    /// Indices in the order of `uuids`; an unknown UUID is INVALID_ARGUMENT naming it and
    /// listing the known ones (field `gpu_uuids`).
    func indices(of uuids: [String]) async throws(RPCError) -> [Int]
}

/// A fixed table of UUIDs, for machines without GPUs (`--mock-gpus N`) and for tests.
public struct StaticGPUTranslator: GPUTranslator {
    public let uuids: [String]

    public init(uuids: [String]) {
        self.uuids = uuids
    }

    public func indices(of requested: [String]) async throws(RPCError) -> [Int] {
        var indices: [Int] = []
        for uuid in requested {
            guard let index = uuids.firstIndex(of: uuid) else {
                throw .invalidArgument(field: "gpu_uuids", "GPU UUID '\(uuid)' is not on this node; known UUIDs: \(uuids.joined(separator: ", "))")
            }
            indices.append(index)
        }
        return indices
    }
}
