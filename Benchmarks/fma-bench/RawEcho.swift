import FMARPC
import NIOCore
import NIOPosix

/// The floor the RPC runtime is measured against: SwiftNIO echoing length-prefixed messages
/// with no protocol on top (no frame message, no call table, no dispatch).
enum RawEcho {
    /// Starts an echo server on `address`; returns the bound address.
    static func serve(_ address: RPCAddress) async throws -> (any Channel, RPCAddress) {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(LengthPrefixDecoder()), EchoHandler())
                }
            }
        switch address {
        case .unix(let path):
            let channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
            return (channel, address)
        case .tcp(let host, let port):
            let channel = try await bootstrap.childChannelOption(.socketOption(.tcp_nodelay), value: 1).bind(host: host, port: port).get()
            return (channel, .tcp(host: host, port: channel.localAddress?.port ?? port))
        }
    }

    /// A client connection that sends one message and waits for its echo, again and again.
    final class Client: Sendable {
        let channel: any Channel
        private let handler: NIOLoopBound<ClientHandler>

        init(_ address: RPCAddress) async throws {
            let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(LengthPrefixDecoder()), ClientHandler())
                    }
                }
            switch address {
            case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            case .tcp(let host, let port):
                channel = try await bootstrap.channelOption(.socketOption(.tcp_nodelay), value: 1).connect(host: host, port: port).get()
            }
            let channel = self.channel
            handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ClientHandler.self), eventLoop: channel.eventLoop)
            }.get()
        }

        func roundTrip(_ message: [UInt8]) async throws {
            let handler = self.handler
            let channel = self.channel
            try await channel.eventLoop.flatSubmit {
                let promise = channel.eventLoop.makePromise(of: Void.self)
                handler.value.waiting = promise
                var buffer = channel.allocator.buffer(capacity: message.count + 4)
                buffer.writeInteger(UInt32(message.count))
                buffer.writeBytes(message)
                channel.writeAndFlush(buffer, promise: nil)
                return promise.futureResult
            }.get()
        }
    }
}

private struct LengthPrefixDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
              buffer.readableBytes >= 4 + Int(length) else { return nil }
        return buffer.readSlice(length: 4 + Int(length))
    }
    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try decode(buffer: &buffer)
    }
}

private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }
}

final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    var waiting: EventLoopPromise<Void>?
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        waiting?.succeed()
        waiting = nil
    }
}
