import FMAWire
import NIOCore
import Synchronization

/// How many bytes of partial frames a server holds, over all its connections.
///
/// A frame's declared length is reserved when its length prefix arrives and released when the
/// frame is complete (or its connection closes), so a peer that announces a large frame and
/// sends it slowly holds at most what this budget allows. Connections that have not yet made an
/// authenticated call share a smaller part of it, so clients without the token cannot crowd out
/// those with it.
final class PartialFrameBudget: Sendable {
    let limit: Int
    let unauthenticatedLimit: Int
    private let total = Atomic<Int>(0)
    private let unauthenticated = Atomic<Int>(0)

    init(limit: Int, unauthenticatedLimit: Int) {
        self.limit = limit
        self.unauthenticatedLimit = unauthenticatedLimit
    }

    /// Reserves `bytes`; false (nothing reserved) when that would pass a limit.
    func reserve(_ bytes: Int, authenticated: Bool) -> Bool {
        if !authenticated {
            let new = unauthenticated.add(bytes, ordering: .relaxed).newValue
            guard new <= unauthenticatedLimit else {
                unauthenticated.subtract(bytes, ordering: .relaxed)
                return false
            }
        }
        let new = total.add(bytes, ordering: .relaxed).newValue
        guard new <= limit else {
            total.subtract(bytes, ordering: .relaxed)
            if !authenticated { unauthenticated.subtract(bytes, ordering: .relaxed) }
            return false
        }
        return true
    }

    func release(_ bytes: Int, authenticated: Bool) {
        total.subtract(bytes, ordering: .relaxed)
        if !authenticated { unauthenticated.subtract(bytes, ordering: .relaxed) }
    }
}

/// Per connection: set by `ServerConnection` once a call has passed the token check (at once
/// where no token is needed). Touched only on the connection's event loop.
final class ConnectionAdmission {
    var authenticated: Bool

    init(authenticated: Bool) {
        self.authenticated = authenticated
    }
}

/// The first handler of a server connection: follows the length prefixes of the bytes arriving,
/// reserves each frame's length in the server's `PartialFrameBudget` and requires every frame to
/// be complete within `frameTimeout` of its first byte. A connection that passes either limit
/// gets a status naming it and is closed (an `RPCError` sent down the pipeline does that).
final class FrameGuard: ChannelInboundHandler {
    /// What the guard sends down the pipeline when a connection passes a limit.
    struct Limit: Error {
        var reason: ConnectionErrorReason
        var error: RPCError
    }

    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let budget: PartialFrameBudget
    private let admission: ConnectionAdmission
    private let frameTimeout: TimeAmount
    private let maxFrameBytes: Int
    private let onLimit: @Sendable (_ reason: String) -> Void

    /// Bytes of the length prefix seen so far, and the prefix being assembled.
    private var prefix: [UInt8] = []
    /// Body bytes the current frame still needs.
    private var remaining = 0
    /// What the current frame reserved, and whether it was reserved as authenticated.
    private var reserved: (bytes: Int, authenticated: Bool)?
    private var timer: Scheduled<Void>?
    private var failed = false

    init(budget: PartialFrameBudget, admission: ConnectionAdmission, frameTimeout: TimeAmount, maxFrameBytes: Int,
         onLimit: @escaping @Sendable (String) -> Void) {
        self.budget = budget
        self.admission = admission
        self.frameTimeout = frameTimeout
        self.maxFrameBytes = maxFrameBytes
        self.onLimit = onLimit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let buffer = unwrapInboundIn(data)
        if let problem = follow(buffer.readableBytesView, context: context) {
            fail(context: context, problem)
            return
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        endFrame()
        context.fireChannelInactive()
    }

    /// Walks the frame boundaries in `bytes`; the reason to close the connection, if any.
    private func follow(_ bytes: ByteBufferView, context: ChannelHandlerContext) -> RPCError? {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if remaining > 0 {
                let taken = min(remaining, bytes.endIndex - index)
                remaining -= taken
                index += taken
                if remaining == 0 { endFrame() }
                continue
            }
            if prefix.isEmpty { startTimer(context: context) }
            prefix.append(bytes[index])
            index += 1
            guard prefix.count == FrameCodec.prefixBytes else { continue }
            let length = prefix.reduce(0) { $0 << 8 | Int($1) }
            prefix.removeAll(keepingCapacity: true)
            guard length > 0 else {
                endFrame()
                continue
            }
            // An oversized frame is the decoder's to refuse, with its own status; the bytes up
            // to its prefix go on to the decoder, and nothing after them is looked at again
            // (the connection closes, dropping what the client still sends).
            guard length <= maxFrameBytes else {
                endFrame()
                timer?.cancel()
                timer = nil
                failed = true
                return nil
            }
            let authenticated = admission.authenticated
            guard budget.reserve(length, authenticated: authenticated) else {
                let whose = authenticated ? "" : " by connections that have made no authenticated call"
                return RPCError(.resourceExhausted, "the server holds too many bytes of partial frames\(whose) (limits \(budget.limit) and \(budget.unauthenticatedLimit) bytes); closing this connection, whose frame of \(length) bytes would pass them")
            }
            reserved = (length, authenticated)
            remaining = length
        }
        return nil
    }

    private func startTimer(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        let seconds = frameTimeout.nanoseconds / 1_000_000_000
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: frameTimeout) {
            let (guardHandler, context) = bound.value
            guard !guardHandler.failed else { return }
            guardHandler.timer = nil
            guardHandler.fail(context: context, RPCError(.deadlineExceeded, "a frame was not complete within \(seconds) s of its first byte (--frame-timeout); closing the connection"))
        }
    }

    /// The current frame is complete (or abandoned): its reservation and timer go.
    private func endFrame() {
        if let reserved { budget.release(reserved.bytes, authenticated: reserved.authenticated) }
        reserved = nil
        remaining = 0
        if prefix.isEmpty {
            timer?.cancel()
            timer = nil
        }
    }

    private func fail(context: ChannelHandlerContext, _ error: RPCError) {
        failed = true
        prefix.removeAll()
        endFrame()
        timer?.cancel()
        timer = nil
        let reason: ConnectionErrorReason = error.code == .deadlineExceeded ? .frameTimeout : .partialFrameBudget
        onLimit(reason.rawValue)
        context.fireErrorCaught(Limit(reason: reason, error: error))
    }
}
