public import FMARPC
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
public import NIOHTTP1
public import NIOPosix
public import ServiceLifecycle

/// A small HTTP/1.1 server (SwiftNIO) for probes, Prometheus metrics and fma's REST surfaces.
///
/// Run it under a `ServiceGroup`: `run()` binds (unless `bind()` already did), serves with
/// keep-alive until graceful shutdown, then closes the listener; idle connections close at once,
/// a request in progress is answered first, a streaming response is stopped and ended; after
/// `drainTimeout` whatever is left is closed. Each connection is served in its own child task;
/// its failure ends only that connection.
public final class HTTPServer: Service, Sendable {
    public struct Configuration: Sendable {
        /// Names the server in logs and in the `server` label of its metrics (e.g. "probes").
        public var name: String
        /// The largest request body read; a larger one is answered 413 and the connection closed.
        public var maxBodyBytes: Int = 4 << 20
        /// How long shutdown waits for requests in progress before closing their connections.
        public var drainTimeout: Duration = .seconds(10)
        /// Called for every accepted connection, on its event loop, before the HTTP handlers are
        /// added: the place to add a TLS handler (e.g. NIOSSL's `NIOSSLServerHandler`) in front.
        /// A throw closes that connection only.
        public var prepareChannel: (@Sendable (any Channel) throws -> Void)?
        /// The scheme the server's URL is logged with: `https` when `prepareChannel` adds TLS.
        public var scheme = "http"
        /// Makes the answers the server gives on its own, before or instead of a handler: 404 (no
        /// route), 405 (no route for the method), 400 (a malformed target), 413 (a body over
        /// `maxBodyBytes`), and a handler's thrown error. Given the status and the message; `nil`
        /// answers them as `text/plain` (the message and a newline).
        public var errorResponse: (@Sendable (HTTPResponseStatus, String) -> HTTPResponse)?

        public init(name: String = "http") {
            self.name = name
        }
    }

    private typealias Connection = HTTPConnection.Channel
    private typealias Listener = NIOAsyncChannel<Connection, Never>

    private enum ListenerState {
        case unbound
        case bound(Listener, RPCAddress)
        case stopped
    }

    /// The address asked for (port 0 allowed).
    public let address: RPCAddress
    public let configuration: Configuration
    private let router: HTTPRouter
    private let logger: Logger
    private let group: any EventLoopGroup
    private let metrics: HTTPServerMetrics
    private let listener = NIOLockedValueBox<ListenerState>(.unbound)

    /// A server for `router` on `address`, which must be `tcp://HOST:PORT`.
    public init(address: RPCAddress, router: HTTPRouter, logger: Logger, configuration: Configuration = Configuration(),
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.address = address
        self.router = router
        self.configuration = configuration
        self.group = eventLoopGroup
        self.metrics = HTTPServerMetrics(server: configuration.name)
        var logger = logger
        logger[metadataKey: "server"] = "\(configuration.name)"
        self.logger = logger
    }

    /// Binds the listener and returns the bound address (port 0 resolved). Calling it again
    /// returns the same address. Errors are `RPCError`s naming the address: INVALID_ARGUMENT for
    /// a Unix address, UNAVAILABLE when the port cannot be bound.
    @discardableResult
    public func bind() async throws -> RPCAddress {
        if case .bound(_, let bound) = listener.withLockedValue({ $0 }) { return bound }
        guard case .tcp(let host, let port) = address else {
            throw RPCError(.invalidArgument, "an HTTP server needs a tcp://HOST:PORT address, not \(address)")
        }
        let configuration = self.configuration
        let channel: Listener
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try configuration.prepareChannel?(channel)
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                        return try Connection(wrappingChannelSynchronously: channel, configuration: .init(
                            inboundType: HTTPServerRequestPart.self, outboundType: Never.self))
                    }
                }
        } catch {
            throw RPCError(.unavailable, "cannot listen on \(address) (\(configuration.name)): \(error)", cause: error)
        }
        let bound = RPCAddress.tcp(host: host, port: channel.channel.localAddress?.port ?? port)
        listener.withLockedValue { $0 = .bound(channel, bound) }
        logger.info("listening", metadata: ["url": "\(Self.url(bound, scheme: configuration.scheme))"])
        return bound
    }

    /// The bound address, once `bind()` (or `run()`) has bound it.
    public var boundAddress: RPCAddress? {
        if case .bound(_, let address) = listener.withLockedValue({ $0 }) { return address }
        return nil
    }

    /// `http://HOST:PORT` (or another `scheme`) for a TCP address (an IPv6 host in brackets).
    public static func url(_ address: RPCAddress, scheme: String = "http") -> String {
        guard case .tcp(let host, let port) = address else { return "\(address)" }
        return host.contains(":") ? "\(scheme)://[\(host)]:\(port)" : "\(scheme)://\(host):\(port)"
    }

    public func run() async throws {
        try await bind()
        guard case .bound(let channel, _) = listener.withLockedValue({ $0 }) else { return }
        let connection = HTTPConnection(router: router, configuration: configuration, metrics: metrics, logger: logger)
        do {
            try await withThrowingDiscardingTaskGroup { group in
                try await withGracefulShutdownHandler {
                    try await channel.executeThenClose { inbound in
                        for try await accepted in inbound {
                            group.addTask { await connection.serve(accepted) }
                        }
                    }
                } onGracefulShutdown: {
                    channel.channel.close(promise: nil)
                }
            }
        } catch let error as ChannelError where error == .alreadyClosed || error == .ioOnClosedChannel {
            // The listener was closed by the shutdown handler while accepting.
        }
        listener.withLockedValue { $0 = .stopped }
        logger.info("stopped")
    }
}
