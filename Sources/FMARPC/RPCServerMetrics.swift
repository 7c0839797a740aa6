import FMAWire
import Metrics
import NIOConcurrencyHelpers

/// The server's Prometheus metrics. Labels are bounded: served method names and status codes.
public struct RPCServerMetrics: Sendable {
    private let connections = Gauge(label: "fma_rpc_open_connections")
    private let accepted = Counter(label: "fma_rpc_connections_total")
    /// Connection errors by reason (`ConnectionErrorReason`), one handle each.
    private let connectionErrors: [ConnectionErrorReason: Counter] = Dictionary(uniqueKeysWithValues: ConnectionErrorReason.allCases.map {
        ($0, Counter(label: "fma_rpc_connection_errors_total", dimensions: [("reason", $0.rawValue)]))
    })
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

    func connectionError(_ reason: ConnectionErrorReason) {
        connectionErrors[reason]?.increment()
    }
}

/// Why a connection ended in error: the `reason` label of `fma_rpc_connection_errors_total`.
enum ConnectionErrorReason: String, CaseIterable, Sendable {
    /// A frame's length is over `--max-frame-bytes`.
    case oversizedFrame = "oversized_frame"
    /// Bytes that do not decode as a Frame.
    case malformedFrame = "malformed_frame"
    /// The connection closed in the middle of a frame.
    case truncatedFrame = "truncated_frame"
    /// A request on call id 0.
    case reservedCallID = "reserved_call_id"
    /// A request on a call id already open.
    case duplicateCallID = "duplicate_call_id"
    /// A response or status frame from a client.
    case serverSideFrame = "server_side_frame"
    /// A partial frame did not complete within `--frame-timeout`.
    case frameTimeout = "frame_timeout"
    /// Partial frames held more bytes than the server allows.
    case partialFrameBudget = "partial_frame_budget"
    /// The socket failed (reset, broken pipe, …).
    case transport

    init(_ error: WireError) {
        switch error {
        case .frameTooLarge: self = .oversizedFrame
        case .malformedFrame: self = .malformedFrame
        case .truncatedFrame: self = .truncatedFrame
        }
    }
}
