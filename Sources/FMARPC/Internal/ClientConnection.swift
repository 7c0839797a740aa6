import FMAWire
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// One client connection and the calls open on it.
///
/// Mutable state lives on the channel's event loop only (hence `@unchecked Sendable`); callers
/// on other threads go through `eventLoop.execute`.
final class ClientConnection: @unchecked Sendable {
    /// What a call waits for: one response (unary) or a stream of them.
    enum Receiver {
        case unary(EventLoopPromise<Data>, response: Data?)
        case stream(AsyncThrowingStream<Data, any Error>.Continuation)
        case observer(StreamObserver)
    }

    /// A stream whose responses are handed over on the event loop as they arrive (no task
    /// waits on it); credit goes back as they are handed over.
    struct StreamObserver: Sendable {
        /// Takes one response; an error (it does not decode) cancels the call with it.
        let deliver: @Sendable (Data) -> RPCError?
        let end: @Sendable (RPCError?) -> Void
        let credit: UInt32
        var sinceGrant: UInt32 = 0
    }

    let channel: any Channel
    let eventLoop: any EventLoop
    let address: RPCAddress
    private var calls: [UInt64: Receiver] = [:]
    private var failure: RPCError?
    private let broken = NIOLockedValueBox(false)

    init(channel: any Channel, address: RPCAddress) {
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.address = address
    }

    /// Opens a call; its frames go to `receiver`. Fails the receiver if the connection is gone.
    func open(_ id: UInt64, _ request: Fma_V1_CallRequest, _ receiver: Receiver) {
        eventLoop.preconditionInEventLoop()
        if let failure {
            return Self.fail(receiver, failure)
        }
        calls[id] = receiver
        var frame = Fma_V1_Frame()
        frame.callID = id
        frame.request = request
        channel.writeAndFlush(frame, promise: nil)
    }

    /// Sends a cancel for an open call and forgets it, failing its receiver with `error`.
    func cancel(_ id: UInt64, _ error: RPCError) {
        eventLoop.preconditionInEventLoop()
        guard let receiver = calls.removeValue(forKey: id) else { return }
        Self.fail(receiver, error)
        var frame = Fma_V1_Frame()
        frame.callID = id
        frame.cancel.reason = error.message
        channel.writeAndFlush(frame, promise: nil)
    }

    /// Grants a stream `messages` more responses.
    func grant(_ id: UInt64, _ messages: UInt32) {
        eventLoop.preconditionInEventLoop()
        guard calls[id] != nil else { return }
        var frame = Fma_V1_Frame()
        frame.callID = id
        frame.credit.messages = messages
        channel.writeAndFlush(frame, promise: nil)
    }

    func receive(_ frame: Fma_V1_Frame) {
        switch frame.body {
        case .response(let response):
            switch calls[frame.callID] {
            case .unary(let promise, nil):
                calls[frame.callID] = .unary(promise, response: response.payload)
            case .unary:
                fail(RPCError(.internal, "the server sent two responses to unary call \(frame.callID)"))
            case .stream(let continuation):
                continuation.yield(response.payload)
            case .observer(var observer):
                if let error = observer.deliver(response.payload) {
                    return cancel(frame.callID, error)
                }
                observer.sinceGrant += 1
                if observer.credit > 0, observer.sinceGrant >= max(1, observer.credit / 2) {
                    grant(frame.callID, observer.sinceGrant)
                    observer.sinceGrant = 0
                }
                // Still open: the delivery may have cancelled it.
                if calls[frame.callID] != nil { calls[frame.callID] = .observer(observer) }
            case nil:
                break  // a call this client already gave up on
            }
        case .status(let status):
            if frame.callID == 0 {
                return fail(RPCError(status.code, "the server closed the connection: \(status.message)", details: status.details))
            }
            guard let receiver = calls.removeValue(forKey: frame.callID) else { return }
            Self.end(receiver, status)
        case .request, .cancel, .credit:
            fail(RPCError(.internal, "the server sent a client-side frame (call id \(frame.callID))"))
        case .none:
            break  // a frame kind from a later protocol version
        }
    }

    /// The connection is unusable: every open call fails with `error`, later ones too.
    func fail(_ error: RPCError) {
        if failure == nil { failure = error }
        broken.withLockedValue { $0 = true }
        let open = calls
        calls.removeAll()
        for receiver in open.values { Self.fail(receiver, failure ?? error) }
        channel.close(promise: nil)
    }

    /// True once the connection has failed or closed; safe to read from any thread.
    var isBroken: Bool { broken.withLockedValue { $0 } }

    private static func end(_ receiver: Receiver, _ status: Fma_V1_CallStatus) {
        switch receiver {
        case .unary(let promise, let response):
            if status.code != .ok {
                promise.fail(RPCError(status: status))
            } else if let response {
                promise.succeed(response)
            } else {
                promise.fail(RPCError(.internal, "the server ended a unary call with OK but sent no response"))
            }
        case .stream(let continuation):
            if status.code == .ok {
                continuation.finish()
            } else {
                continuation.finish(throwing: RPCError(status: status))
            }
        case .observer(let observer):
            observer.end(status.code == .ok ? nil : RPCError(status: status))
        }
    }

    private static func fail(_ receiver: Receiver, _ error: RPCError) {
        switch receiver {
        case .unary(let promise, _): promise.fail(error)
        case .stream(let continuation): continuation.finish(throwing: error)
        case .observer(let observer): observer.end(error)
        }
    }
}

/// The last handler of a client pipeline: hands frames and connection errors to the connection.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Fma_V1_Frame

    var connection: ClientConnection?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection?.receive(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let address = connection.map { "\($0.address)" } ?? "the server"
        connection?.fail(RPCError(.unavailable, "connection to \(address) failed: \(error)", cause: error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let connection {
            connection.fail(RPCError(.unavailable, "the connection to \(connection.address) closed"))
        }
        context.fireChannelInactive()
    }
}
