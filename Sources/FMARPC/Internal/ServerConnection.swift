import FMAWire
import Foundation
import Logging
import NIOCore

/// One accepted connection: its open calls, their flow control and their ends.
///
/// All mutable state is touched on the channel's event loop only; handlers run in tasks and
/// come back to the loop through `eventLoop.execute`. That confinement is what makes the
/// `@unchecked Sendable` sound.
final class ServerConnection: @unchecked Sendable {
    struct Call {
        var method: String
        var task: Task<Void, Never>?
        /// Responses the client still accepts; nil when it set no per-call limit.
        var credit: UInt32?
        /// A streamed response waiting for credit or writability.
        var pending: (payload: Data, promise: EventLoopPromise<Void>)?
        var deadline: Scheduled<Void>?
        var started: NIODeadline
    }

    let channel: any Channel
    let eventLoop: any EventLoop
    let peer: String
    private let shared: ServerShared
    private let requiresToken: BearerToken?
    private let admission: ConnectionAdmission
    private var logger: Logger
    private var calls: [UInt64: Call] = [:]
    private var draining = false
    /// A connection error was counted; later ones (from closing it) are not.
    private var errored = false
    /// The status of a connection error was sent; the connection is closing.
    private var closingAfterError = false
    private var drained: EventLoopPromise<Void>?
    private var closed = false
    private let executor: EventLoopTaskExecutor

    init(channel: any Channel, peer: String, shared: ServerShared, requiresToken: BearerToken?, admission: ConnectionAdmission) {
        self.admission = admission
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.peer = peer
        self.shared = shared
        self.requiresToken = requiresToken
        self.executor = EventLoopTaskExecutor(channel.eventLoop)
        var logger = shared.logger
        logger[metadataKey: "peer"] = "\(peer)"
        self.logger = logger
    }

    var openCalls: Int { calls.count }

    // MARK: - Frames from the client

    func receive(_ frame: Fma_V1_Frame) {
        eventLoop.preconditionInEventLoop()
        // Closing after a connection error: what the client still sends is dropped.
        guard !closingAfterError else { return }
        switch frame.body {
        case .request(let request):
            open(frame.callID, request)
        case .cancel(let cancel):
            let reason = cancel.reason.isEmpty ? "cancelled by the client" : "cancelled by the client: \(cancel.reason)"
            end(frame.callID, RPCError(.cancelled, reason))
        case .credit(let credit):
            addCredit(frame.callID, credit.messages)
        case .response, .status:
            connectionError(RPCError(.invalidArgument, "a client sent a server-side frame (call id \(frame.callID))"), reason: .serverSideFrame)
        case .none:
            logger.debug("ignoring a frame with an unknown body", metadata: ["call_id": "\(frame.callID)"])
        }
    }

    private func open(_ id: UInt64, _ request: Fma_V1_CallRequest) {
        guard id != 0 else {
            return connectionError(RPCError(.invalidArgument, "call id 0 is reserved for connection errors"), reason: .reservedCallID)
        }
        guard calls[id] == nil else {
            return connectionError(RPCError(.invalidArgument, "call id \(id) is already open on this connection"), reason: .duplicateCallID)
        }
        if let refusal = refusal(for: request) {
            shared.metrics.recordCall(method: shared.metricsLabel(for: request.method), code: refusal.code, seconds: 0)
            return writeEnd(id, response: nil, status: refusal.status)
        }
        let handler = shared.router.handlers[request.method]!
        var metadata = request.metadata
        metadata.removeValue(forKey: "authorization")
        let now = NIODeadline.now()
        var call = Call(method: request.method, credit: request.initialCredit == 0 ? nil : request.initialCredit, started: now)
        var deadline: ContinuousClock.Instant?
        if request.timeoutMs > 0 {
            // A deadline past AcceptedSeconds.limit is as good as none, and larger values would
            // overflow the clocks' arithmetic.
            let milliseconds = Int64(min(request.timeoutMs, AcceptedSeconds.limitMilliseconds))
            let timeout = TimeAmount.milliseconds(milliseconds)
            deadline = ContinuousClock.now.advanced(by: .milliseconds(milliseconds))
            call.deadline = eventLoop.scheduleTask(in: timeout) { [self] in
                end(id, RPCError(.deadlineExceeded, "the deadline of \(request.timeoutMs) ms passed"))
            }
        }
        let context = ServerCallContext(method: request.method, callID: id, metadata: metadata, peer: peer, deadline: deadline,
                                        connectionLogger: logger, drainSignal: shared.drain)
        calls[id] = call
        let sink = CallSink(connection: self, id: id)
        let payload = request.payload
        // One task per call: handlers may suspend for long (a stream, a slow sleep); the task
        // is kept in the call table so that cancel, deadline, close and drain can stop it.
        calls[id]?.task = Task(executorPreference: executor) {
            let response: Data?
            let status: Fma_V1_CallStatus
            do {
                response = try await handler.run(payload, sink, context)
                status = Fma_V1_CallStatus.with { $0.code = .ok }
            } catch let error as RPCError {
                response = nil
                status = error.status
            } catch is CancellationError {
                response = nil
                status = RPCError(.cancelled, "the call was cancelled").status
            } catch {
                context.logger.error("handler failed", metadata: ["error": "\(error)"])
                response = nil
                status = RPCError(.internal, "the handler of \(context.method) failed: \(error)").status
            }
            if self.eventLoop.inEventLoop {
                self.finish(id, response: response, status: status)
            } else {
                self.eventLoop.execute { self.finish(id, response: response, status: status) }
            }
        }
    }

    /// The method every fma server answers (§10), also while draining.
    static let healthCheck = "fma.v1.Health/Check"

    /// Why a new call is answered at once without running it, if it is.
    private func refusal(for request: Fma_V1_CallRequest) -> RPCError? {
        // While draining, Health/Check still answers (DRAINING) so that a client on an open
        // connection can tell a shutdown from a failure (docs/wire-protocol.md §9).
        if draining && request.method != Self.healthCheck {
            return RPCError(.unavailable, "server is shutting down")
        }
        if let token = requiresToken {
            guard let offered = request.metadata["authorization"] else {
                return RPCError(.unauthenticated, "missing bearer token")
            }
            guard token.authorizes(offered) else {
                return RPCError(.unauthenticated, "invalid bearer token")
            }
            admission.authenticated = true
        }
        if calls.count >= shared.maxCallsPerConnection {
            return RPCError(.resourceExhausted, "too many open calls on this connection (limit \(shared.maxCallsPerConnection))")
        }
        if shared.router.handlers[request.method] == nil {
            let served = shared.router.serviceNames.joined(separator: ", ")
            let what = request.method.isEmpty ? "no method was given" : "method '\(request.method)' is not served here"
            return RPCError(.unimplemented, "\(what); this server serves \(served)")
        }
        return nil
    }

    private func addCredit(_ id: UInt64, _ messages: UInt32) {
        guard var call = calls[id], let credit = call.credit else { return }
        call.credit = credit &+ messages < credit ? .max : credit + messages
        calls[id] = call
        flushPending(id)
    }

    // MARK: - Responses

    /// Hands one streamed response to the connection once credit and writability allow.
    func send(_ id: UInt64, _ payload: Data) -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        guard let call = calls[id], !closed else { return eventLoop.makeFailedFuture(CancellationError()) }
        if payload.count > shared.maxResponsePayload {
            return eventLoop.makeFailedFuture(Self.oversized(call.method, payload.count, limit: shared.maxResponsePayload))
        }
        let promise = eventLoop.makePromise(of: Void.self)
        precondition(calls[id]?.pending == nil, "a response writer must await each write")
        calls[id]?.pending = (payload, promise)
        flushPending(id)
        return promise.futureResult
    }

    private func flushPending(_ id: UInt64) {
        guard var call = calls[id], let pending = call.pending, channel.isWritable else { return }
        if let credit = call.credit {
            guard credit > 0 else { return }
            call.credit = credit - 1
        }
        call.pending = nil
        calls[id] = call
        var frame = Fma_V1_Frame()
        frame.callID = id
        frame.response.payload = pending.payload
        channel.writeAndFlush(frame, promise: nil)
        pending.promise.succeed()
    }

    /// The socket can take more: release the streams that waited for it.
    func writabilityChanged() {
        guard channel.isWritable else { return }
        for id in calls.keys where calls[id]?.pending != nil {
            flushPending(id)
        }
    }

    /// The handler returned: send its response (unary) and status, unless the call already ended.
    private func finish(_ id: UInt64, response: Data?, status: Fma_V1_CallStatus) {
        guard let call = calls.removeValue(forKey: id) else { return }
        var response = response
        var status = status
        if let payload = response, payload.count > shared.maxResponsePayload {
            response = nil
            status = Self.oversized(call.method, payload.count, limit: shared.maxResponsePayload).status
        }
        release(call)
        shared.metrics.recordCall(method: call.method, code: status.code, seconds: seconds(since: call.started))
        writeEnd(id, response: response, status: status)
        checkDrained()
    }

    /// Ends a call from outside its handler (cancel, deadline): status now, task cancelled.
    private func end(_ id: UInt64, _ error: RPCError) {
        guard let call = calls.removeValue(forKey: id) else { return }
        call.task?.cancel()
        release(call)
        shared.metrics.recordCall(method: call.method, code: error.code, seconds: seconds(since: call.started))
        logger.debug("call ended early", metadata: ["call_id": "\(id)", "code": "\(error.code.name)", "reason": "\(error.message)"])
        writeEnd(id, response: nil, status: error.status)
        checkDrained()
    }

    private func release(_ call: Call) {
        call.deadline?.cancel()
        call.pending?.promise.fail(CancellationError())
    }

    private func writeEnd(_ id: UInt64, response: Data?, status: Fma_V1_CallStatus) {
        guard !closed else { return }
        if let response {
            var frame = Fma_V1_Frame()
            frame.callID = id
            frame.response.payload = response
            channel.write(frame, promise: nil)
        }
        var frame = Fma_V1_Frame()
        frame.callID = id
        frame.status = status
        channel.writeAndFlush(frame, promise: nil)
    }

    /// A response too large for one frame ends its call instead of breaking the connection.
    private static func oversized(_ method: String, _ bytes: Int, limit: Int) -> RPCError {
        RPCError(.resourceExhausted, "the response of \(method) is \(bytes) bytes; at most \(limit) fit in a frame")
    }

    private func seconds(since start: NIODeadline) -> Double {
        Double((NIODeadline.now() - start).nanoseconds) / 1e9
    }

    // MARK: - Connection lifetime

    /// Idle past --max-connection-idle: say so on call id 0 (UNAVAILABLE, so a client simply
    /// reconnects), then close.
    func closeIdle(seconds: Double) {
        logger.debug("closing an idle connection", metadata: ["idle_seconds": "\(seconds)"])
        var frame = Fma_V1_Frame()
        frame.status = RPCError(.unavailable, "closing this connection: idle for \(seconds) s (--max-connection-idle)").status
        if !closed {
            channel.writeAndFlush(frame).whenComplete { [channel] _ in channel.close(promise: nil) }
        }
    }

    /// A connection error (counted as `reason` if it is the connection's first: closing after
    /// one can bring another, such as a frame cut short by the close itself): tell the client
    /// why on call id 0, then close.
    func connectionError(_ error: RPCError, reason: ConnectionErrorReason) {
        if noteError() { shared.metrics.connectionError(reason) }
        connectionError(error)
    }

    /// Records that the connection failed; true the first time (the error to count).
    func noteError() -> Bool {
        defer { errored = true }
        return !errored
    }

    /// Tells the client why on call id 0, then closes: first
    /// the sending side, so the status and an end of stream reach the client, then, once the
    /// client closes or `errorLinger` passes, the whole connection. Meanwhile what the client
    /// still sends (the rest of an oversized frame) is read and dropped: closing with unread
    /// bytes would reset the connection, and a reset can discard the status before the client
    /// reads it.
    private func connectionError(_ error: RPCError) {
        logger.warning("closing connection", metadata: ["reason": "\(error.message)", "code": "\(error.code.name)"])
        var frame = Fma_V1_Frame()
        frame.status = error.status
        guard !closed, !closingAfterError else { return }
        closingAfterError = true
        let linger = TimeAmount(shared.errorLinger)
        channel.writeAndFlush(frame).whenComplete { [channel] _ in
            channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
            channel.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
        }
    }

    /// The channel closed: every open call is cancelled.
    func closedByPeer() {
        closed = true
        let open = calls
        calls.removeAll()
        for (_, call) in open {
            call.task?.cancel()
            release(call)
            shared.metrics.recordCall(method: call.method, code: .cancelled, seconds: seconds(since: call.started))
        }
        if !open.isEmpty {
            logger.debug("connection closed with calls open; cancelled them", metadata: ["calls": "\(open.count)"])
        }
        checkDrained()
    }

    /// Stops taking calls; the future completes once no call is open.
    func drain() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        draining = true
        let promise = drained ?? eventLoop.makePromise(of: Void.self)
        drained = promise
        checkDrained()
        return promise.futureResult
    }

    /// Cancels whatever is still open (after the drain timeout).
    func cancelAll() {
        for id in Array(calls.keys) {
            end(id, RPCError(.unavailable, "server is shutting down; the drain timeout passed"))
        }
    }

    private func checkDrained() {
        if calls.isEmpty, let drained {
            self.drained = nil
            drained.succeed()
        }
    }
}

/// The `ResponseSink` of one call: writes hop to the connection's event loop.
private struct CallSink: ResponseSink {
    let connection: ServerConnection
    let id: UInt64

    func send(_ payload: Data) async throws {
        try Task.checkCancellation()
        let connection = self.connection
        let id = self.id
        try await connection.eventLoop.flatSubmit { connection.send(id, payload) }.get()
    }
}
