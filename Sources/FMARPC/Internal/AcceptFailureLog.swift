import Logging
import NIOCore

/// After `AcceptBackoffHandler` on a listener: logs a failed accept (EMFILE: the descriptor
/// limit) once, not once per attempt, until a connection is accepted again. The backoff itself
/// (a pause before accepting again) keeps the event loop from spinning a core meanwhile.
final class AcceptFailureLog: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let logger: Logger
    private let listener: String
    private var failing = false

    init(logger: Logger, listener: String) {
        self.logger = logger
        self.listener = listener
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if failing {
            failing = false
            logger.notice("accepting connections again", metadata: ["listener": "\(listener)"])
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !failing {
            failing = true
            logger.error("cannot accept connections; backing off until it can", metadata: [
                "listener": "\(listener)", "error": "\(error)",
                "hint": "at the open-file limit (ulimit -n)? too many connections or open files",
            ])
        }
    }
}
