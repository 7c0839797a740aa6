import FMAWire
import Metrics

/// The server's Prometheus metrics. Labels are bounded: served method names and status codes.
public struct RPCServerMetrics: Sendable {
    private let connections = Gauge(label: "fma_rpc_open_connections")
    private let accepted = Counter(label: "fma_rpc_connections_total")
    private let connectionErrors = Counter(label: "fma_rpc_connection_errors_total")

    public init() {}

    func recordCall(method: String, code: Fma_V1_StatusCode, seconds: Double) {
        Counter(label: "fma_rpc_calls_total", dimensions: [("method", method), ("code", code.name)]).increment()
        Timer(label: "fma_rpc_call_duration_seconds", dimensions: [("method", method)]).recordNanoseconds(Int64(seconds * 1e9))
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
