public import FMARPC
public import FMAWire
import NIOPosix

/// The node's real GPUs through NVML. NVML calls block in the driver, so they run on NIO's
/// thread pool, never on the concurrency pool.
public final class NVMLProbe: GPUProbe {
    public var source: String { "nvml" }

    /// Loads and initializes NVML from `library`; throws `NVMLError` (kind `unavailable`) on a
    /// machine without the driver.
    public init(library: String = NVML.defaultLibrary) throws(NVMLError) {
        try NVML.start(library: library)
    }

    deinit { NVML.stop() }

    public func sample() async throws(RPCError) -> [Fma_V1_GPUDevice] {
        do {
            return try await NIOThreadPool.singleton.runIfActive { try NVML.devices() }
        } catch let error as NVMLError {
            throw RPCError(.unavailable, "NVML: \(error.message)", cause: error)
        } catch {
            throw RPCError(.unavailable, "NVML could not be asked: \(error)", cause: error)
        }
    }
}
