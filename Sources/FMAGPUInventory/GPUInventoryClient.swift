public import FMARPC
public import FMAWire

/// Typed calls of `fma.v1.GPUInventory` (a node's `fma-gpu-inventory`).
public struct GPUInventoryClient: Sendable {
    public let rpc: RPCClient

    public init(_ rpc: RPCClient) { self.rpc = rpc }

    public func listDevices(timeout: Duration? = .seconds(10)) async throws(RPCError) -> Fma_V1_ListDevicesResponse {
        try await rpc.unary(GPUInventoryService.listDevices, Fma_V1_ListDevicesRequest(), timeout: timeout)
    }

    /// UUIDs → indices; an unknown UUID is INVALID_ARGUMENT naming it.
    public func translate(_ uuids: [String], timeout: Duration? = .seconds(10)) async throws(RPCError) -> Fma_V1_TranslateResponse {
        try await rpc.unary(GPUInventoryService.translate, Fma_V1_TranslateRequest.with { $0.uuids = uuids }, timeout: timeout)
    }

    /// Memory in use on `uuids` (every GPU when empty).
    public func memoryUsage(_ uuids: [String] = [], timeout: Duration? = .seconds(10)) async throws(RPCError) -> Fma_V1_MemoryUsageResponse {
        try await rpc.unary(GPUInventoryService.memoryUsage, Fma_V1_MemoryUsageRequest.with { $0.uuids = uuids }, timeout: timeout)
    }

    /// The devices now, then every change; `intervalMs` 0 is the server's default (1 s).
    public func watchDevices(intervalMs: UInt32 = 0, timeout: Duration? = nil) async throws(RPCError) -> RPCResponseStream<Fma_V1_DeviceEvent> {
        try await rpc.serverStreaming(GPUInventoryService.watchDevices, Fma_V1_WatchDevicesRequest.with { $0.intervalMs = intervalMs },
                                      timeout: timeout)
    }
}
