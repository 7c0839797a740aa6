import Metrics
import Synchronization

/// The readiness a requester reports on `/ready`: false until the controller sets it (RPC
/// `SetReady`, or FMA's SPI `become-ready` / `become-unready`). Exported as `fma_requester_ready`.
public final class Readiness: Sendable {
    private let value = Mutex(false)
    private let gauge = Gauge(label: "fma_requester_ready")

    public init() {
        gauge.record(0)
    }

    public var isReady: Bool { value.withLock { $0 } }

    public func set(_ ready: Bool) {
        value.withLock { $0 = ready }
        gauge.record(ready ? 1 : 0)
    }
}
