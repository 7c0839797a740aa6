public import FMARPC
import FMAWire

/// The requester stub's state (requester mode): the GPUs this container was given, the
/// readiness the controller relays, and the relayed log. RPC and HTTP share one instance.
public final class Requester: Sendable {
    /// The GPU UUIDs of this container, in the order the environment gave them.
    public let accelerators: [String]
    public let readiness: Readiness
    public let log: RequesterLog
    /// Where memory figures come from (NVML, a node inventory, a mock file); nil when none is.
    private let devices: (any GPUProbe)?
    /// Why `devices` is nil, for the error that memory queries then get.
    private let missingDevicesReason: String

    public init(accelerators: [String], devices: (any GPUProbe)?, missingDevicesReason: String = "no device source",
                readiness: Readiness = Readiness(), log: RequesterLog = RequesterLog()) {
        self.accelerators = accelerators
        self.devices = devices
        self.missingDevicesReason = missingDevicesReason
        self.readiness = readiness
        self.log = log
    }

    /// MiB in use on each accelerator (bytes / 2^20, rounded down), from the device source.
    /// An accelerator the source does not report is left out (FMA's controller then says "no
    /// GPU usage information for GPU …"). UNAVAILABLE when there is no source or it fails.
    public func acceleratorMemoryMiB() async throws(RPCError) -> [String: UInt64] {
        guard let devices else {
            throw RPCError(.unavailable, "GPU memory is unknown: \(missingDevicesReason); start the requester with --inventory ADDRESS or --mock-file FILE")
        }
        let sampled = try await devices.sample()
        var used: [String: UInt64] = [:]
        for device in sampled where accelerators.contains(device.uuid) {
            used[device.uuid] = device.memoryUsedBytes >> 20
        }
        return used
    }
}
