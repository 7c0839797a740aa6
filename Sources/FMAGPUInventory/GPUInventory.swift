public import FMARPC
public import FMAWire
public import Logging
import Synchronization

/// The GPUs of one node (node mode): listing, UUID → index translation, memory in use, and
/// watching for changes. Every answer samples the probe afresh; nothing samples in the
/// background, so a node nobody asks costs nothing.
public final class GPUInventory: Sendable {
    /// The sampling interval of a watch that does not ask for one.
    public static let defaultWatchIntervalMs: UInt32 = 1000
    /// The intervals a watch may ask for.
    public static let watchIntervalMs: ClosedRange<UInt32> = 10...3_600_000

    public let nodeName: String
    public let probe: any GPUProbe
    private let logger: Logger
    private let metrics: GPUInventoryMetrics
    private let counts = Mutex<(watchers: Int, samples: Int)>((0, 0))

    public init(nodeName: String, probe: any GPUProbe, logger: Logger = .silent) {
        self.nodeName = nodeName
        self.probe = probe
        self.metrics = GPUInventoryMetrics(source: probe.source)
        var logger = logger
        logger[metadataKey: "node"] = "\(nodeName)"
        self.logger = logger
    }

    /// WatchDevices streams open now.
    public var activeWatchers: Int { counts.withLock { $0.watchers } }
    /// How many times the probe has been sampled (also `fma_gpu_samples_total`).
    public var sampleCount: Int { counts.withLock { $0.samples } }

    public func listDevices() async throws(RPCError) -> Fma_V1_ListDevicesResponse {
        let devices = try await sample()
        return .with {
            $0.nodeName = nodeName
            $0.source = probe.source
            $0.devices = devices
        }
    }

    /// The indices of `uuids`, in order, and their comma-joined form for CUDA_VISIBLE_DEVICES.
    /// An unknown or repeated UUID is INVALID_ARGUMENT naming it (and listing the node's UUIDs).
    public func translate(_ uuids: [String]) async throws(RPCError) -> Fma_V1_TranslateResponse {
        let found = try locate(uuids, in: try await sample())
        return .with {
            $0.indices = found.map(\.index)
            $0.cudaVisibleDevices = found.map { "\($0.index)" }.joined(separator: ",")
        }
    }

    /// Memory in use on `uuids` (every GPU when empty), in that order (index order for all).
    public func memoryUsage(_ uuids: [String]) async throws(RPCError) -> Fma_V1_MemoryUsageResponse {
        let devices = try await sample()
        let chosen = uuids.isEmpty ? devices : try locate(uuids, in: devices)
        return .with {
            $0.gpus = chosen.map { device in
                .with {
                    $0.uuid = device.uuid
                    $0.index = device.index
                    $0.usedBytes = device.memoryUsedBytes
                    $0.totalBytes = device.memoryTotalBytes
                }
            }
        }
    }

    /// Sends the devices now (`INITIAL`), then, sampling every `intervalMs` (0: the default),
    /// every device again (`CHANGED`) each time any of them differs from the last message.
    /// Runs until `send` throws or the task is cancelled; a failed sample is logged and skipped.
    public func watch(intervalMs: UInt32, _ send: @Sendable (Fma_V1_DeviceEvent) async throws -> Void) async throws {
        let interval = intervalMs == 0 ? Self.defaultWatchIntervalMs : intervalMs
        guard Self.watchIntervalMs.contains(interval) else {
            throw RPCError.invalidArgument(field: "interval_ms",
                                           "interval_ms \(interval) is outside \(Self.watchIntervalMs.lowerBound)...\(Self.watchIntervalMs.upperBound)")
        }
        metrics.watching(counts.withLock { $0.watchers += 1; return $0.watchers })
        defer { metrics.watching(counts.withLock { $0.watchers -= 1; return $0.watchers }) }
        var last = try await sample()
        try await send(.with {
            $0.type = .initial
            $0.devices = last
        })
        while true {
            try await Task.sleep(for: .milliseconds(interval))
            let now: [Fma_V1_GPUDevice]
            do {
                now = try await sample()
            } catch {
                logger.warning("sampling the GPUs failed; the watch goes on", metadata: ["error": "\(error.message)"])
                continue
            }
            guard now != last else { continue }
            last = now
            try await send(.with {
                $0.type = .changed
                $0.devices = now
            })
        }
    }

    private func sample() async throws(RPCError) -> [Fma_V1_GPUDevice] {
        counts.withLock { $0.samples += 1 }
        do {
            let devices = try await probe.sample()
            metrics.sampled(devices: devices.count)
            return devices
        } catch {
            metrics.sampleFailed()
            throw error
        }
    }

    /// The devices of `uuids`, in order; an unknown or repeated UUID is INVALID_ARGUMENT.
    private func locate(_ uuids: [String], in devices: [Fma_V1_GPUDevice]) throws(RPCError) -> [Fma_V1_GPUDevice] {
        let byUUID = Dictionary(devices.map { ($0.uuid, $0) }, uniquingKeysWith: { first, _ in first })
        var seen: Set<String> = []
        var found: [Fma_V1_GPUDevice] = []
        for uuid in uuids {
            guard seen.insert(uuid).inserted else {
                throw RPCError(.invalidArgument, "GPU UUID '\(uuid)' is given twice", details: ["field": "uuids", "uuid": uuid])
            }
            guard let device = byUUID[uuid] else {
                let known = devices.map { "'\($0.uuid)'" }.joined(separator: ", ")
                throw RPCError(.invalidArgument, "GPU UUID '\(uuid)' not found on node \(nodeName). Available UUIDs: [\(known)]",
                               details: ["field": "uuids", "uuid": uuid])
            }
            found.append(device)
        }
        return found
    }
}
