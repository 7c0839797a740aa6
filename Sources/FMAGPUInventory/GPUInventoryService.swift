public import FMARPC
import FMAWire

/// `fma.v1.GPUInventory` (proto/fma/v1/gpu_inventory.proto) over a node's `GPUInventory`.
public struct GPUInventoryService: RPCService {
    public static let serviceName = "fma.v1.GPUInventory"
    public static let listDevices = "fma.v1.GPUInventory/ListDevices"
    public static let translate = "fma.v1.GPUInventory/Translate"
    public static let memoryUsage = "fma.v1.GPUInventory/MemoryUsage"
    public static let watchDevices = "fma.v1.GPUInventory/WatchDevices"

    public let inventory: GPUInventory

    public init(_ inventory: GPUInventory) {
        self.inventory = inventory
    }

    public func register(in router: inout RPCRouter) {
        let inventory = self.inventory
        router.unary(Self.listDevices) { (_: Fma_V1_ListDevicesRequest, _) in
            try await inventory.listDevices()
        }
        router.unary(Self.translate) { (request: Fma_V1_TranslateRequest, _) in
            try await inventory.translate(request.uuids)
        }
        router.unary(Self.memoryUsage) { (request: Fma_V1_MemoryUsageRequest, _) in
            try await inventory.memoryUsage(request.uuids)
        }
        router.serverStreaming(Self.watchDevices) { (request: Fma_V1_WatchDevicesRequest, writer: RPCResponseWriter<Fma_V1_DeviceEvent>, context) in
            try await context.endingOnDrain("the device watch") {
                try await inventory.watch(intervalMs: request.intervalMs) { event in try await writer.write(event) }
            }
        }
    }
}
