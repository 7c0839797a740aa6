import FMAWire
import Logging
import NIOCore

/// The last handler of a server connection's pipeline: hands frames to its `ServerConnection`.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Fma_V1_Frame

    private let shared: ServerShared
    private let registry: ConnectionRegistry
    private let requiresToken: BearerToken?
    private let admission: ConnectionAdmission
    private let listener: RPCAddress
    private var connection: ServerConnection?

    init(shared: ServerShared, registry: ConnectionRegistry, requiresToken: BearerToken?, admission: ConnectionAdmission, listener: RPCAddress) {
        self.shared = shared
        self.registry = registry
        self.requiresToken = requiresToken
        self.admission = admission
        self.listener = listener
    }

    func channelActive(context: ChannelHandlerContext) {
        let peer: String
        switch listener {
        case .unix(let path): peer = "unix:\(path)"
        case .tcp: peer = context.channel.remoteAddress.map { "\($0)" } ?? "tcp:unknown"
        }
        let connection = ServerConnection(channel: context.channel, peer: peer, shared: shared, requiresToken: requiresToken, admission: admission)
        self.connection = connection
        let open = registry.add(connection)
        shared.metrics.connectionOpened(open: open)
        shared.logger.debug("connection opened", metadata: ["peer": "\(peer)", "listener": "\(listener)"])
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection?.receive(unwrapInboundIn(data))
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection?.writabilityChanged()
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        shared.metrics.connectionError()
        if let wire = error as? WireError {
            connection?.connectionError(RPCError(wire.statusCode, wire.description))
        } else if let limit = error as? RPCError {
            // FrameGuard: a frame too slow, or too many bytes of partial frames.
            connection?.connectionError(limit)
        } else {
            shared.logger.info("connection failed", metadata: ["peer": "\(connection?.peer ?? "?")", "error": "\(error)"])
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let connection {
            connection.closedByPeer()
            let open = registry.remove(connection)
            shared.metrics.connectionClosed(open: open)
            shared.logger.debug("connection closed", metadata: ["peer": "\(connection.peer)"])
        }
        connection = nil
        context.fireChannelInactive()
    }
}
