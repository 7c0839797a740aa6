public import Logging
public import NIOCore
import NIOConcurrencyHelpers
import NIOHTTP1
public import NIOPosix
public import ServiceLifecycle

/// A tiny HTTP/1.1 server for Prometheus: `GET /metrics` answers what `render` returns.
public final class MetricsServer: Service, Sendable {
    public let address: RPCAddress
    private let render: @Sendable () -> String
    private let logger: Logger
    private let group: any EventLoopGroup
    private let boundPort = NIOLockedValueBoxPort()

    public init(address: RPCAddress, logger: Logger, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                render: @escaping @Sendable () -> String) {
        self.address = address
        self.render = render
        self.logger = logger
        self.group = eventLoopGroup
    }

    /// Binds the listener and returns the URL it serves, port 0 resolved.
    public func bind() async throws -> String {
        guard case .tcp(let host, let port) = address else {
            throw RPCError(.invalidArgument, "the metrics endpoint needs a tcp:// address, not \(address)")
        }
        let render = self.render
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(render: render))
                }
            }
            .bind(host: host, port: port).get()
        boundPort.set(channel)
        let display = host.contains(":") ? "[\(host)]" : host
        let url = "http://\(display):\(channel.localAddress?.port ?? port)/metrics"
        logger.info("serving metrics", metadata: ["url": "\(url)"])
        return url
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try? await boundPort.channel?.close()
    }
}

/// Holds the bound channel between `bind()` and shutdown.
private final class NIOLockedValueBoxPort: Sendable {
    private let box = NIOLockedValueBox<(any Channel)?>(nil)
    func set(_ channel: any Channel) { box.withLockedValue { $0 = channel } }
    var channel: (any Channel)? { box.withLockedValue { $0 } }
}

private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let render: @Sendable () -> String
    private var path = ""

    init(render: @escaping @Sendable () -> String) { self.render = render }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = head.uri
        case .body:
            break
        case .end:
            let found = path == "/metrics" || path.hasPrefix("/metrics?")
            let body = found ? render() : "not found: only /metrics is served here\n"
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8")
            headers.add(name: "Content-Length", value: "\(body.utf8.count)")
            let head = HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound, headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
