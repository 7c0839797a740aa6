import FMAWire
import Foundation
public import NIOCore
import NIOConcurrencyHelpers
public import NIOPosix
public import SwiftProtobuf

/// A client for any fma service: one connection, reused by every call, opened on first use and
/// reopened on the next call after it breaks. Calls run concurrently over the one connection.
///
/// Every error a call throws is an `RPCError`: the server's status, or UNAVAILABLE (cannot
/// connect, connection lost), DEADLINE_EXCEEDED (the call's timeout passed) or CANCELLED (the
/// calling task was cancelled), each with a message naming the address or call.
public final class RPCClient: Sendable {
    public struct Configuration: Sendable {
        public var address: RPCAddress
        /// Sent as `authorization: Bearer TOKEN` with every call (needed on TCP).
        public var token: BearerToken?
        public var maxFrameBytes: Int = FrameCodec.defaultMaxFrameBytes
        public var connectTimeout: Duration = .seconds(5)
        /// Responses a stream may send ahead of the reader; credit is renewed as it reads.
        public var streamCredit: UInt32 = 64

        public init(address: RPCAddress, token: BearerToken? = nil) {
            self.address = address
            self.token = token
        }
    }

    public let configuration: Configuration
    private let group: any EventLoopGroup
    private let state = NIOLockedValueBox(State())

    private struct State {
        enum Connection {
            case none
            case connecting(EventLoopFuture<ClientConnection>)
            case connected(ClientConnection)
        }
        var connection: Connection = .none
        var nextCallID: UInt64 = 1
        var closed = false
    }

    public init(configuration: Configuration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = eventLoopGroup
    }

    public convenience init(address: RPCAddress, token: BearerToken? = nil) {
        self.init(configuration: Configuration(address: address, token: token))
    }

    // MARK: - Calls

    /// Makes a unary call and returns its response.
    public func unary<Request: Message, Response: Message>(
        _ method: String,
        _ request: Request,
        as response: Response.Type = Response.self,
        timeout: Duration? = nil,
        metadata: [String: String] = [:]
    ) async throws(RPCError) -> Response {
        let (connection, id, frame) = try await prepare(method, request, timeout: timeout, metadata: metadata, credit: 0)
        let promise = connection.eventLoop.makePromise(of: Data.self)
        connection.eventLoop.execute { connection.open(id, frame, .unary(promise, response: nil)) }
        let timer = timeout.map { timeout in
            connection.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                connection.cancel(id, RPCError(.deadlineExceeded, "\(method) did not finish within \(timeout)"))
            }
        }
        defer { timer?.cancel() }
        let payload: Data
        do {
            payload = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                connection.eventLoop.execute { connection.cancel(id, RPCError(.cancelled, "the caller cancelled \(method)")) }
            }
        } catch {
            throw Self.rpcError(error, method: method)
        }
        do {
            return try Response(serializedBytes: payload)
        } catch {
            throw RPCError(.internal, "the response of \(method) does not decode as \(Response.protoMessageName): \(error)", cause: error)
        }
    }

    /// Starts a server-streaming call; iterate the result for its responses.
    ///
    /// Leaving the iteration early (or cancelling the iterating task) cancels the call.
    public func serverStreaming<Request: Message, Response: Message>(
        _ method: String,
        _ request: Request,
        as response: Response.Type = Response.self,
        timeout: Duration? = nil,
        metadata: [String: String] = [:]
    ) async throws(RPCError) -> RPCResponseStream<Response> {
        let credit = configuration.streamCredit
        let (connection, id, frame) = try await prepare(method, request, timeout: timeout, metadata: metadata, credit: credit)
        let (stream, continuation) = AsyncThrowingStream<Data, any Error>.makeStream()
        connection.eventLoop.execute { connection.open(id, frame, .stream(continuation)) }
        let timer = timeout.map { timeout in
            connection.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                connection.cancel(id, RPCError(.deadlineExceeded, "\(method) did not finish within \(timeout)"))
            }
        }
        continuation.onTermination = { reason in
            timer?.cancel()
            if case .cancelled = reason {
                connection.eventLoop.execute { connection.cancel(id, RPCError(.cancelled, "the reader stopped reading \(method)")) }
            }
        }
        return RPCResponseStream(method: method, payloads: stream, credit: credit) { messages in
            connection.eventLoop.execute { connection.grant(id, messages) }
        }
    }

    /// Starts a server-streaming call whose responses go to `onResponse` as they arrive and whose
    /// end goes to `onEnd` (nil when the server ended it with OK, else the error), both on the
    /// connection's event loop, so keep them quick. No task waits on the call: a process can
    /// hold thousands of long-lived streams (a controller's launcher watches) for little memory.
    /// A response that does not decode cancels the call with INTERNAL. Cancel with the result.
    public func serverStreaming<Request: Message, Response: Message>(
        _ method: String,
        _ request: Request,
        as response: Response.Type = Response.self,
        metadata: [String: String] = [:],
        onResponse: @escaping @Sendable (Response) -> Void,
        onEnd: @escaping @Sendable (RPCError?) -> Void
    ) async throws(RPCError) -> RPCStreamCall {
        let credit = configuration.streamCredit
        let (connection, id, frame) = try await prepare(method, request, timeout: nil, metadata: metadata, credit: credit)
        let observer = ClientConnection.StreamObserver(
            deliver: { payload in
                do {
                    onResponse(try Response(serializedBytes: payload))
                    return nil
                } catch {
                    return RPCError(.internal, "a response of \(method) does not decode as \(Response.protoMessageName): \(error)", cause: error)
                }
            },
            end: onEnd, credit: credit)
        connection.eventLoop.execute { connection.open(id, frame, .observer(observer)) }
        return RPCStreamCall { reason in
            connection.eventLoop.execute { connection.cancel(id, RPCError(.cancelled, reason)) }
        }
    }

    /// Closes the connection; calls still open fail with UNAVAILABLE. Later calls fail too.
    public func close() async {
        let connection = state.withLockedValue { state in
            state.closed = true
            defer { state.connection = .none }
            return state.connection
        }
        switch connection {
        case .none: return
        case .connecting(let future):
            if let connection = try? await future.get() { try? await connection.channel.close() }
        case .connected(let connection):
            try? await connection.channel.close()
        }
    }

    // MARK: - Connection

    private func prepare<Request: Message>(
        _ method: String, _ request: Request, timeout: Duration?, metadata: [String: String], credit: UInt32
    ) async throws(RPCError) -> (ClientConnection, UInt64, Fma_V1_CallRequest) {
        var frame = Fma_V1_CallRequest()
        frame.method = method
        frame.metadata = metadata
        if let token = configuration.token {
            frame.metadata["authorization"] = token.authorizationValue
        }
        if let timeout {
            frame.timeoutMs = Self.milliseconds(timeout)
        }
        frame.initialCredit = credit
        do {
            frame.payload = try request.serializedBytes()
        } catch {
            throw RPCError(.invalidArgument, "cannot encode the request of \(method): \(error)", cause: error)
        }
        // Checked here: an oversized frame would be a connection error, failing every call on it.
        let frameBytes = frame.payload.count + method.utf8.count
            + frame.metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 8 }
        guard frameBytes + FrameCodec.responseOverheadBytes <= configuration.maxFrameBytes else {
            throw RPCError(.resourceExhausted, "the request of \(method) makes a frame of about \(frameBytes) bytes; the limit is \(configuration.maxFrameBytes)")
        }
        let (connection, id) = try await connection()
        return (connection, id, frame)
    }

    /// The open connection (or a new one when there is none or it broke) and a fresh call id.
    private func connection() async throws(RPCError) -> (ClientConnection, UInt64) {
        enum Next {
            case ready(ClientConnection)
            case wait(EventLoopFuture<ClientConnection>)
            case closed
        }
        let (next, id): (Next, UInt64) = state.withLockedValue { state in
            let id = state.nextCallID
            state.nextCallID += 1
            if state.closed { return (.closed, id) }
            switch state.connection {
            case .connected(let connection) where !connection.isBroken:
                return (.ready(connection), id)
            case .connecting(let pending):
                return (.wait(pending), id)
            case .connected, .none:
                let fresh = connect()
                state.connection = .connecting(fresh)
                return (.wait(fresh), id)
            }
        }
        let future: EventLoopFuture<ClientConnection>
        switch next {
        case .ready(let connection): return (connection, id)
        case .wait(let pending): future = pending
        case .closed: throw RPCError(.unavailable, "the client for \(configuration.address) is closed")
        }
        do {
            let connection = try await future.get()
            state.withLockedValue { state in
                if case .connecting(let pending) = state.connection, pending === future {
                    state.connection = .connected(connection)
                }
            }
            return (connection, id)
        } catch {
            state.withLockedValue { state in
                if case .connecting(let pending) = state.connection, pending === future {
                    state.connection = .none
                }
            }
            throw Self.rpcError(error, method: nil, address: configuration.address)
        }
    }

    private func connect() -> EventLoopFuture<ClientConnection> {
        let address = configuration.address
        let maxFrameBytes = configuration.maxFrameBytes
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            // Small first reads: a process holding thousands of mostly idle connections (a
            // controller's launchers) keeps one receive buffer each; it grows for big responses.
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 1 << 20))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = ClientConnectionHandler()
                    handler.connection = ClientConnection(channel: channel, address: address)
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes)),
                        MessageToByteHandler(FrameEncoder()),
                        handler
                    )
                }
            }
        let channel: EventLoopFuture<any Channel>
        switch address {
        case .unix(let path):
            channel = bootstrap.connect(unixDomainSocketPath: path)
        case .tcp(let host, let port):
            bootstrap = bootstrap.channelOption(.socketOption(.tcp_nodelay), value: 1)
            channel = bootstrap.connect(host: host, port: port)
        }
        return channel.flatMapThrowing { channel in
            try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self).connection!
        }
    }

    private static func rpcError(_ error: any Error, method: String?, address: RPCAddress? = nil) -> RPCError {
        if let error = error as? RPCError { return error }
        if error is CancellationError {
            return RPCError(.cancelled, "\(method ?? "the call") was cancelled", cause: error)
        }
        if let address {
            return RPCError(.unavailable, "cannot connect to \(address): \(error)", cause: error)
        }
        return RPCError(.unavailable, "\(method ?? "the call") failed: \(error)", cause: error)
    }
}

extension RPCClient {
    /// A call's timeout as the frame's `timeout_ms`: at least 1, at most AcceptedSeconds' limit.
    static func milliseconds(_ timeout: Duration) -> UInt64 {
        guard timeout < .seconds(AcceptedSeconds.limit) else { return AcceptedSeconds.limitMilliseconds }
        let (seconds, attoseconds) = timeout.components
        return UInt64(max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
    }
}
