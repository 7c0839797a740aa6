/// The lifecycle of one HTTP connection, as far as shutdown cares: idle between requests, busy
/// with a request, or streaming a response. Pure: each transition returns what to do.
///
/// On graceful shutdown an idle connection closes at once; a busy one answers its request and
/// then closes; a stream is stopped (its producer cancelled, the body ended) and the connection
/// closes.
struct HTTPConnectionStateMachine: Sendable {
    enum State: Sendable, Equatable {
        case idle
        case busy
        case streaming
        case closed
    }

    enum ShutdownAction: Sendable, Equatable {
        case close
        case closeAfterResponse
        case stopStream
        case none
    }

    enum NextAction: Sendable, Equatable {
        case readNextRequest
        case close
    }

    private(set) var state: State = .idle
    private(set) var shuttingDown = false

    /// A request head arrived.
    mutating func requestStarted() {
        if state == .idle { state = .busy }
    }

    /// The handler answered with a stream; false when the server is already shutting down, in
    /// which case the stream is ended at once instead of produced.
    mutating func streamStarted() -> Bool {
        guard state == .busy, !shuttingDown else { return false }
        state = .streaming
        return true
    }

    /// A response was sent completely; `keepAlive` is what the request and response allow.
    mutating func responseEnded(keepAlive: Bool) -> NextAction {
        guard state == .busy || state == .streaming else { return .close }
        if shuttingDown || !keepAlive {
            state = .closed
            return .close
        }
        state = .idle
        return .readNextRequest
    }

    /// Graceful shutdown began.
    mutating func shutdown() -> ShutdownAction {
        guard !shuttingDown else { return .none }
        shuttingDown = true
        switch state {
        case .idle:
            state = .closed
            return .close
        case .busy: return .closeAfterResponse
        case .streaming: return .stopStream
        case .closed: return .none
        }
    }

    /// The connection closed (either end).
    mutating func closed() {
        state = .closed
    }
}
