import FMAHTTPClient
import NIOCore
import NIOPosix

/// One HTTP GET of a readiness probe, through the project's HTTP client: success is a status
/// from 200 to 399 within the timeout; no answer, a refused connection or any other status is
/// a failure.
enum ReadinessProbe {
    /// The client the kubelet probes with: direct (no proxy), at most 64 KiB of body read.
    static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.proxy = .disabled
        configuration.allowHTTP2 = false
        configuration.maxResponseBodyBytes = 64 << 10
        configuration.userAgent = "kube-probe/fma-devcluster"
        return HTTPClient(configuration: configuration)
    }

    /// A `tcpSocket` probe: passes when a TCP connection to `host`:`port` opens in time.
    static func connect(host: String, port: Int, timeout: Duration) async -> Bool {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)))
        guard let channel = try? await bootstrap.connect(host: host, port: port).get() else { return false }
        try? await channel.close()
        return true
    }

    static func get(_ client: HTTPClient, host: String, port: Int, path: String, timeout: Duration) async -> Bool {
        let target = path.hasPrefix("/") ? path : "/" + path
        let request = HTTPClientRequest(.get, "http://\(host):\(port)\(target)", timeout: timeout, connectTimeout: timeout)
        guard let response = try? await client.send(request) else { return false }
        return (200..<400).contains(response.status)
    }
}
