import Metrics
import NIOConcurrencyHelpers

/// An HTTP server's Prometheus metrics: `fma_http_requests_total{server,route,method,status}`
/// and `fma_http_request_duration_seconds{server,route}`. Labels are bounded: the server's name,
/// route patterns (never a path: an unmatched request is `unmatched`), a fixed set of methods
/// (others are `other`) and status codes.
struct HTTPServerMetrics: Sendable {
    private let server: String
    private let handles = NIOLockedValueBox<[Key: (Counter, Timer)]>([:])

    private struct Key: Hashable {
        var route: String
        var method: String
        var status: UInt
    }

    private static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    init(server: String) {
        self.server = server
    }

    func record(route: String, method: String, status: UInt, nanoseconds: Int64) {
        let key = Key(route: route, method: Self.methods.contains(method) ? method : "other", status: status)
        let (requests, duration) = handles.withLockedValue { handles in
            if let existing = handles[key] { return existing }
            let made = (Counter(label: "fma_http_requests_total",
                                dimensions: [("server", server), ("route", key.route), ("method", key.method), ("status", "\(key.status)")]),
                        Timer(label: "fma_http_request_duration_seconds", dimensions: [("server", server), ("route", key.route)]))
            handles[key] = made
            return made
        }
        requests.increment()
        duration.recordNanoseconds(nanoseconds)
    }
}
