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
    private var lastActivity = NIODeadline.now()
    private var idleCheck: RepeatedTask?

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
        if let idle = shared.maxConnectionIdle { watchIdle(TimeAmount(idle), context: context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        connection?.receive(unwrapInboundIn(data))
    }

    /// Closes the connection once it has had no open call and received no frame for `idle`.
    private func watchIdle(_ idle: TimeAmount, context: ChannelHandlerContext) {
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let period = TimeAmount.nanoseconds(max(idle.nanoseconds / 4, 1_000_000))
        idleCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            let handler = bound.value
            guard let connection = handler.connection else { return }
            if connection.openCalls > 0 {
                handler.lastActivity = .now()
            } else if NIODeadline.now() - handler.lastActivity >= idle {
                handler.idleCheck?.cancel()
                handler.shared.metrics.connectionLimited(reason: "idle")
                connection.closeIdle(seconds: Double(idle.nanoseconds) / 1e9)
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection?.writabilityChanged()
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let wire = error as? WireError {
            connectionError(RPCError(wire.statusCode, wire.description), reason: ConnectionErrorReason(wire))
        } else if let limit = error as? FrameGuard.Limit {
            // A frame too slow, or too many bytes of partial frames.
            connectionError(limit.error, reason: limit.reason)
        } else {
            if connection?.noteError() ?? true { shared.metrics.connectionError(.transport) }
            shared.logger.info("connection failed", metadata: ["peer": "\(connection?.peer ?? "?")", "error": "\(error)"])
            context.close(promise: nil)
        }
    }

    /// Ends the connection with `error`, counted under `reason` if it is the connection's first.
    private func connectionError(_ error: RPCError, reason: ConnectionErrorReason) {
        if let connection {
            connection.connectionError(error, reason: reason)
        } else {
            shared.metrics.connectionError(reason)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
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
