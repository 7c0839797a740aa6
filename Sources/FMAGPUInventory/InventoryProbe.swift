public import FMARPC
public import FMAWire

/// The devices a node's `fma-gpu-inventory` reports (its `ListDevices`), for a requester on a
/// node whose GPUs are simulated: every requester and the launcher then see the same GPUs.
public struct InventoryProbe: GPUProbe {
    public let client: GPUInventoryClient
    public var source: String { "inventory" }

    public init(_ client: GPUInventoryClient) {
        self.client = client
    }

    public func sample() async throws(RPCError) -> [Fma_V1_GPUDevice] {
        try await client.listDevices().devices
    }
}
