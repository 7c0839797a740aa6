import FMAWire
public import Logging

extension RPCServer {
    /// Everything a server needs to know before it starts.
    public struct Configuration: Sendable {
        /// Where to listen: any mix of Unix sockets and TCP endpoints (port 0 → a free port).
        public var listen: [RPCAddress]
        /// The token TCP calls must carry; nil means TCP calls need none (see `insecure`).
        public var token: BearerToken?
        /// Allows TCP on a non-loopback address without a token. Off by default.
        public var insecure: Bool = false
        /// The largest frame accepted, checked before allocating.
        public var maxFrameBytes: Int = FrameCodec.defaultMaxFrameBytes
        /// The most calls open at once on one connection.
        public var maxCallsPerConnection: Int = 1024
        /// How long a frame may take from its first byte to its last before the connection is
        /// closed (a slow or half-open peer holds no buffer for long).
        public var frameTimeout: Duration = .seconds(30)
        /// The most bytes of partial frames the server holds over all its connections, and the
        /// part of it connections may use before their first authenticated call.
        public var maxBufferedFrameBytes: Int = 64 * 1024 * 1024
        public var maxUnauthenticatedBufferedFrameBytes: Int = 16 * 1024 * 1024
        /// Close a connection with no call open and no frame received for this long (nil: never).
        public var maxConnectionIdle: Duration?
        /// How long shutdown waits for calls in flight before cancelling them.
        public var drainTimeout: Duration = .seconds(30)
        /// Written (atomically) with the bound addresses, one a line, once every listener is up.
        public var readyFile: String?
        /// Extra lines written to the ready file after the addresses (e.g. the metrics URL).
        public var readyFileExtraLines: [String] = []

        public init(listen: [RPCAddress], token: BearerToken? = nil) {
            self.listen = listen
            self.token = token
        }

        /// Refuses what would be unsafe or impossible, naming the address.
        public func validate() throws(RPCError) {
            guard !listen.isEmpty else {
                throw RPCError(.invalidArgument, "no address to listen on: give at least one --listen")
            }
            // A loopback port is no private place either: any local user can connect to it
            // (unlike a 0660 Unix socket), so every TCP listener needs a token or --insecure.
            for address in listen where address.isTCP && token == nil && !insecure {
                let who = address.isLoopback ? "from any local user" : "from the network"
                throw RPCError(.failedPrecondition,
                               "refusing to listen on \(address) without a token: give --token-file (or FMA_TOKEN), or --insecure to accept unauthenticated calls \(who)")
            }
            guard maxFrameBytes >= 64 else {
                throw RPCError(.invalidArgument, "--max-frame-bytes \(maxFrameBytes) is too small (at least 64)")
            }
            guard maxBufferedFrameBytes >= maxFrameBytes, maxUnauthenticatedBufferedFrameBytes >= maxFrameBytes else {
                throw RPCError(.invalidArgument, "--max-buffered-frame-bytes \(maxBufferedFrameBytes) must hold at least one frame of --max-frame-bytes \(maxFrameBytes)")
            }
            if let maxConnectionIdle, maxConnectionIdle <= .zero {
                throw RPCError(.invalidArgument, "--max-connection-idle must be positive")
            }
            guard frameTimeout > .zero else {
                throw RPCError(.invalidArgument, "--frame-timeout must be positive")
            }
        }
    }
}

/// Where a server's listeners ended up, port 0 resolved.
public struct RPCBoundAddresses: Sendable {
    public var addresses: [RPCAddress]
}

extension Logger {
    /// A logger that discards everything, for tests and quiet tools.
    public static var silent: Logger { Logger(label: "fma.silent", factory: { _ in SwiftLogNoOpLogHandler() }) }
}
