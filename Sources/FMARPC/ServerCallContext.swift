public import Logging

/// What a handler knows about the call it serves.
public struct ServerCallContext: Sendable {
    /// "package.Service/Method".
    public var method: String
    /// The call's id on its connection.
    public var callID: UInt64
    /// The call's metadata (lower-case keys), the `authorization` entry removed.
    public var metadata: [String: String]
    /// The remote end, e.g. "unix:/run/fma/launcher.sock" or "tcp://127.0.0.1:51234".
    public var peer: String
    /// When the call's deadline passes, if it has one.
    public var deadline: ContinuousClock.Instant?
    /// The connection's logger; `logger` adds the call's id and method.
    var connectionLogger: Logger
    let drainSignal: DrainSignal

    /// Returns when the server starts draining (SIGTERM), or when the call is cancelled.
    ///
    /// Calls in flight are let finish on a drain; a stream that would never finish by itself
    /// (a watch, a log follower) races this and ends the call, so shutdown need not wait for
    /// the drain timeout.
    public func untilServerDrains() async {
        await drainSignal.wait()
    }

    /// Whether the server is draining: it finishes the calls in flight and refuses new ones
    /// (Health/Check excepted, which answers DRAINING).
    public var serverIsDraining: Bool {
        drainSignal.hasFired
    }

    /// A logger carrying the call's id, method and peer as metadata (made on use: most calls
    /// never log).
    public var logger: Logger {
        var logger = connectionLogger
        logger[metadataKey: "call_id"] = "\(callID)"
        logger[metadataKey: "method"] = "\(method)"
        return logger
    }
}
