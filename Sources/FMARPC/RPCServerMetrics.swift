import FMAWire
import Metrics
import NIOConcurrencyHelpers

/// The server's Prometheus metrics. Labels are bounded: served method names and status codes.
public struct RPCServerMetrics: Sendable {
    private let connections = Gauge(label: "fma_rpc_open_connections")
    private let accepted = Counter(label: "fma_rpc_connections_total")
    private let connectionErrors = Counter(label: "fma_rpc_connection_errors_total")
    private let frameTimeouts = Counter(label: "fma_rpc_connections_limited_total", dimensions: [("reason", "frame_timeout")])
    private let frameBudget = Counter(label: "fma_rpc_connections_limited_total", dimensions: [("reason", "partial_frame_budget")])
    private let idleClosed = Counter(label: "fma_rpc_connections_limited_total", dimensions: [("reason", "idle")])
    /// Metric handles by label values: making one goes through the metrics factory's own
    /// locks and tables, which costs more than the call being counted.
    private let perCall = NIOLockedValueBox<[CallKey: (Counter, Timer)]>([:])

    private struct CallKey: Hashable {
        var method: String
        var code: Int
    }

    public init() {}

    func recordCall(method: String, code: Fma_V1_StatusCode, seconds: Double) {
        let key = CallKey(method: method, code: code.rawValue)
        let (counter, timer) = perCall.withLockedValue { cache in
            if let handles = cache[key] { return handles }
            let handles = (Counter(label: "fma_rpc_calls_total", dimensions: [("method", method), ("code", code.name)]),
                           Timer(label: "fma_rpc_call_duration_seconds", dimensions: [("method", method)]))
            cache[key] = handles
            return handles
        }
        counter.increment()
        timer.recordNanoseconds(Int64(seconds * 1e9))
    }

    /// A connection closed for a limit: `frame_timeout`, `partial_frame_budget` or `idle`.
    func connectionLimited(reason: String) {
        switch reason {
        case "frame_timeout": frameTimeouts.increment()
        case "idle": idleClosed.increment()
        default: frameBudget.increment()
        }
    }

    func connectionOpened(open: Int) {
        accepted.increment()
        connections.record(open)
    }

    func connectionClosed(open: Int) {
        connections.record(open)
    }

    func connectionError() {
        connectionErrors.increment()
    }
}
