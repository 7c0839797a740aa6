public import FMAGPUInventory
public import FMARPC
import FMAWire

/// Translates through the node's fma-gpu-inventory (`fma.v1.GPUInventory/Translate`), which
/// knows the real (NVML) or mock indices.
public struct InventoryGPUTranslator: GPUTranslator {
    public let client: GPUInventoryClient
    public let address: RPCAddress

    public init(address: RPCAddress) {
        self.address = address
        self.client = GPUInventoryClient(RPCClient(address: address))
    }

    public func indices(of uuids: [String]) async throws(RPCError) -> [Int] {
        do {
            return try await client.translate(uuids).indices.map(Int.init)
        } catch {
            if error.code == .invalidArgument {
                throw .invalidArgument(field: "gpu_uuids", error.message)
            }
            throw RPCError(.unavailable, "cannot translate GPU UUIDs through the GPU inventory at \(address): \(error.message)", cause: error)
        }
    }
}
