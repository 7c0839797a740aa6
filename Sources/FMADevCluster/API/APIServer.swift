import FMAHTTPServer
import FMARPC
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle

/// The HTTPS Kubernetes API server: `KubeAPI` behind TLS with the cluster's certificate.
///
/// Run it under a `ServiceGroup`; `bind()` first to learn the URL (port 0 resolved).
public final class APIServer: Service, Sendable {
    public struct Configuration: Sendable {
        /// The address to listen on (`127.0.0.1`, `::1`, `0.0.0.0`).
        public var host: String = "127.0.0.1"
        /// The port; 0 picks a free one.
        public var port: Int = 0
        /// The largest request body; larger ones get 413 (Kubernetes' own limit is 3 MiB).
        public var maxBodyBytes: Int = 3 << 20
        /// How long shutdown waits for requests in progress (watches end at once).
        public var drainTimeout: Duration = .seconds(5)

        public init(host: String = "127.0.0.1", port: Int = 0) {
            self.host = host
            self.port = port
        }
    }

    private let http: HTTPServer

    public init(api: KubeAPI, credentials: ClusterCredentials, configuration: Configuration, logger: Logger) throws {
        let tls = try ServerTLS(credentials: credentials)
        var http = HTTPServer.Configuration(name: "kube-api")
        http.maxBodyBytes = configuration.maxBodyBytes
        http.drainTimeout = configuration.drainTimeout
        http.prepareChannel = { channel in try tls.prepare(channel) }
        http.scheme = "https"
        http.errorResponse = { status, message in KubeAPI.errorResponse(status, message) }
        self.http = HTTPServer(address: .tcp(host: configuration.host, port: configuration.port), router: api.router, logger: logger,
                               configuration: http)
    }

    /// Binds the listener; returns the server's URL, `https://HOST:PORT`.
    @discardableResult
    public func bind() async throws -> String {
        Self.url(try await http.bind())
    }

    /// `https://HOST:PORT` (an IPv6 host in brackets); a wildcard host is reached on loopback.
    static func url(_ address: RPCAddress) -> String {
        guard case .tcp(var host, let port) = address else { return "\(address)" }
        if host == "0.0.0.0" { host = "127.0.0.1" }
        if host == "::" { host = "::1" }
        return HTTPServer.url(.tcp(host: host, port: port), scheme: "https")
    }

    public func run() async throws {
        try await http.run()
    }
}
