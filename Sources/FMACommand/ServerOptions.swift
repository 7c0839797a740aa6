public import ArgumentParser
public import FMARPC
import Foundation

/// The options every fma server takes: where to listen, who may call, where to say it is ready.
public struct ServerOptions: ParsableArguments {
    @Option(name: .customLong("listen"),
            help: ArgumentHelp("An address to serve on: unix:PATH or tcp://HOST:PORT (port 0 picks a free port). Repeat for several.",
                               valueName: "address"))
    public var listen: [String] = []

    @Option(name: .customLong("token-file"),
            help: ArgumentHelp("A file holding the bearer token that TCP calls must carry (default: the FMA_TOKEN environment variable).",
                               valueName: "file"))
    public var tokenFile: String?

    @Flag(name: .customLong("insecure"),
          help: "Allow TCP without a token: anyone who can reach the port can call (on a loopback address, any local user). Without it a TCP --listen needs --token-file or FMA_TOKEN.")
    public var insecure = false

    @Option(name: .customLong("ready-file"),
            help: ArgumentHelp("Write the bound addresses here, one a line, once the server accepts calls (port 0 resolved).",
                               valueName: "file"))
    public var readyFile: String?

    @Option(name: .customLong("metrics-listen"),
            help: ArgumentHelp("Serve Prometheus metrics over HTTP at tcp://HOST:PORT/metrics (its URL is the ready file's last line).",
                               valueName: "address"))
    public var metricsListen: String?

    @Option(name: .customLong("max-frame-bytes"), help: "The largest frame accepted, checked before reading it.")
    public var maxFrameBytes: Int = 4 * 1024 * 1024

    @Option(name: .customLong("frame-timeout"), help: "Seconds a frame may take from its first byte to its last; a slower connection is closed with DEADLINE_EXCEEDED.")
    public var frameTimeout = Seconds(30)

    @Option(name: .customLong("max-buffered-frame-bytes"),
            help: "The most bytes of incomplete frames held over all connections (a quarter of it for connections that have made no authenticated call); past it a connection is closed with RESOURCE_EXHAUSTED.")
    public var maxBufferedFrameBytes: Int = 64 * 1024 * 1024

    @Option(name: .customLong("max-connection-idle"),
            help: "Close a connection with no open call that has sent nothing for this many seconds (default: never).")
    public var maxConnectionIdle: Seconds?

    @Option(name: .customLong("drain-timeout"), help: "Seconds that shutdown waits for calls in flight before cancelling them.")
    public var drainTimeout = Seconds(30)

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    public var logLevel: String = "info"

    public init() {}

    public mutating func validate() throws {
        if listen.isEmpty {
            throw ValidationError("give at least one --listen address, e.g. --listen unix:/tmp/fma.sock or --listen tcp://127.0.0.1:0")
        }
        for address in listen {
            do { _ = try RPCAddress(parsing: address) } catch { throw ValidationError("--listen: \(error)") }
        }
        if let metricsListen {
            do { _ = try RPCAddress(parsing: metricsListen) } catch { throw ValidationError("--metrics-listen: \(error)") }
        }
        _ = try LogSetup.level(named: logLevel)
    }

    /// The server configuration these options describe.
    public func configuration() throws -> RPCServer.Configuration {
        var configuration = RPCServer.Configuration(
            listen: try listen.map { try RPCAddress(parsing: $0) },
            token: try TokenSource.load(file: tokenFile))
        configuration.insecure = insecure
        configuration.readyFile = readyFile
        configuration.maxFrameBytes = maxFrameBytes
        configuration.drainTimeout = drainTimeout.duration
        configuration.frameTimeout = frameTimeout.duration
        configuration.maxConnectionIdle = maxConnectionIdle.map(\.duration)
        configuration.maxBufferedFrameBytes = maxBufferedFrameBytes
        configuration.maxUnauthenticatedBufferedFrameBytes = max(maxFrameBytes, maxBufferedFrameBytes / 4)
        try configuration.validate()
        return configuration
    }
}

/// Where a token comes from: `--token-file`, else the FMA_TOKEN environment variable.
public enum TokenSource {
    public static func load(file: String?) throws -> BearerToken? {
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read the token file \(file): \(error.localizedDescription)")
            }
            guard let token = BearerToken(text) else { throw ValidationError("the token file \(file) is empty") }
            return token
        }
        return ProcessInfo.processInfo.environment["FMA_TOKEN"].flatMap(BearerToken.init)
    }
}
