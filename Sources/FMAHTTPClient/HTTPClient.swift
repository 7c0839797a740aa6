import Foundation

/// The project's one HTTP client, on libcurl: TLS with a private CA and client certificates,
/// bearer tokens, HTTP/2, proxies, and long streaming reads, for vLLM's admin API and the
/// Kubernetes API.
///
/// Transfers never run on the Swift concurrency pool: all of a client's transfers run on one
/// thread of its own (a curl multi loop), started by the first request and stopped by
/// `shutdown()` (or when the client is released). Connections are kept and reused between
/// requests, and HTTP/2 requests to one server share a connection.
///
/// Every error is an `HTTPClientError`. A response of any status is returned, not thrown.
/// Cancelling the calling task ends the transfer with `.cancelled`.
public final class HTTPClient: Sendable {
    public let configuration: Configuration
    private let loop = CurlEventLoop()
    private let proxySettings: ProxySettings

    /// A client; the proxy environment (`Proxy.environment`) is read now, once.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        proxySettings = ProxySettings(configuration.proxy, environment: ProcessInfo.processInfo.environment)
    }

    deinit {
        loop.stop()
    }

    /// Sends `request` and returns the whole response, whatever its status.
    ///
    /// Fails with `.timeout` when the request's timeout (or the client's `defaultTimeout`)
    /// passes, `.tooLarge` when the body passes its limit, `.cancelled` when the calling task
    /// is cancelled, and the other codes as `HTTPClientError.Code` describes.
    public func send(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientResponse {
        let options = try TransferOptions(request, configuration: configuration, proxy: proxySettings, streaming: false)
        let label = options.label
        let collector = ResponseCollector(label: label, limit: options.maxBodyBytes ?? .max)
        let transfer = CurlTransfer(label: label, delegate: collector, loop: loop)
        try transfer.configure(options)
        transfer.start()
        let result = await withTaskCancellationHandler {
            await collector.response()
        } onCancel: {
            transfer.cancel(HTTPClientError(.cancelled, "\(label): the calling task was cancelled"))
        }
        return try result.get()
    }

    /// Sends `request` and returns as soon as the response head arrives; the body follows as
    /// chunks through `HTTPClientStreamingResponse.body`.
    ///
    /// The request's `timeout`, if set, limits the whole transfer (there is no default);
    /// `connectTimeout` applies as for `send`. At most `Configuration.streamBufferBytes` wait
    /// for a reader that is behind; then the transfer pauses until it catches up. The transfer
    /// ends when the body ends, the reader leaves its loop or its task is cancelled, the
    /// response is dropped or `cancel()`led, or the client shuts down.
    public func stream(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientStreamingResponse {
        let options = try TransferOptions(request, configuration: configuration, proxy: proxySettings, streaming: true)
        let label = options.label
        let core = StreamCore(label: label, bufferLimit: configuration.streamBufferBytes)
        let transfer = CurlTransfer(label: label, delegate: core, loop: loop)
        try transfer.configure(options)
        let handle = StreamHandle(client: self, transfer: transfer, core: core, label: label)
        transfer.start()
        let head = await withTaskCancellationHandler {
            await core.head()
        } onCancel: {
            handle.cancel("the calling task was cancelled")
        }
        switch head {
        case .success(let head):
            return HTTPClientStreamingResponse(status: head.status, headers: head.headers, body: .init(handle: handle))
        case .failure(let error):
            throw error
        }
    }

    /// Ends every transfer still running with `.shutdown`, stops the client's thread and
    /// waits for it. Later requests fail with `.shutdown`. Safe to call more than once.
    public func shutdown() async {
        await loop.shutdown()
    }
}

/// Runs `body` with a new client and shuts the client down when `body` returns or throws.
public func withHTTPClient<Value>(
    configuration: HTTPClient.Configuration = HTTPClient.Configuration(),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (HTTPClient) async throws -> Value
) async rethrows -> Value {
    let client = HTTPClient(configuration: configuration)
    do {
        let value = try await body(client)
        await client.shutdown()
        return value
    } catch {
        await client.shutdown()
        throw error
    }
}
