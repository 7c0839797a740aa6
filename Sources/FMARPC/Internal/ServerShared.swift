import Logging

/// What every connection of one server shares: the router, limits, logger and metrics.
struct ServerShared: Sendable {
    let router: RPCRouter
    let maxCallsPerConnection: Int
    /// The largest response payload that fits the server's frame limit.
    let maxResponsePayload: Int
    let logger: Logger
    let metrics: RPCServerMetrics
    /// Close connections idle this long (no open call, no frame received); nil: never.
    let maxConnectionIdle: Duration?
    /// Bytes of partial frames held, over all connections.
    let partialFrames: PartialFrameBudget
    /// After a connection error the server stops sending (its status already written) but keeps
    /// reading and dropping what the client still sends, for at most this long, so that the
    /// client's kernel does not discard the status on a reset (§8).
    let errorLinger: Duration
    /// Fires when the server starts draining.
    let drain = DrainSignal()

    /// The method name as a metrics label: only served methods, so labels stay bounded.
    func metricsLabel(for method: String) -> String {
        router.handlers[method] == nil ? "unknown" : method
    }
}
