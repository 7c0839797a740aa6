import FMAHTTPClient
import FMAJSON
import Foundation
import FMAKubeModel
public import Logging

/// A client of the Kubernetes API: get, list, watch, create, update, patch and delete objects,
/// typed (`Pod`, `ConfigMap`, FMA's CRDs: the kind is `T.resourceKind`) or untyped
/// (`UnstructuredObject` with an explicit `kind:`).
///
/// Requests go through the project's HTTP client (libcurl: TLS with the cluster's CA, client
/// certificates, bearer tokens, HTTP/2) and a shared client-side rate limit. Every failure is a
/// `KubeError`; an error answer of the API server carries its `Status`.
///
/// Namespaces: `nil` means the configuration's namespace for calls on one object, and all
/// namespaces for `list` and `watch`. Cluster-scoped kinds ignore the namespace.
public final class KubeClient: Sendable {
    /// Limits and defaults of a client.
    public struct Options: Sendable {
        /// Requests a second, sustained; ≤ 0 disables the limit. Watches count once, when opened.
        public var qps: Double = 50
        /// Requests allowed at once above the sustained rate.
        public var burst: Int = 100
        /// The limit for one request (not for watches, which the server ends).
        public var requestTimeout: Duration = .seconds(30)
        /// The server-side timeout a watch asks for; the informer re-watches when it ends.
        public var watchTimeoutSeconds: Int = 300
        /// Negotiate HTTP/2 when the server offers it.
        public var allowHTTP2 = true
        public var userAgent = "fma/0.1.0"

        public init() {}
    }

    public let config: KubeConfig
    public let options: Options
    let http: HTTPClient
    let rateLimiter: RateLimiter
    let logger: Logger

    public init(config: KubeConfig, options: Options = Options(), logger: Logger = Logger(label: "fma.kube")) {
        self.config = config
        self.options = options
        var httpConfiguration = config.httpConfiguration
        httpConfiguration.allowHTTP2 = options.allowHTTP2
        httpConfiguration.userAgent = options.userAgent
        httpConfiguration.defaultTimeout = options.requestTimeout
        http = HTTPClient(configuration: httpConfiguration)
        rateLimiter = RateLimiter(qps: options.qps, burst: options.burst)
        var logger = logger
        logger[metadataKey: "kube_server"] = "\(config.server)"
        self.logger = logger
    }

    /// Ends every request and watch still running and stops the HTTP client's thread.
    public func shutdown() async {
        await http.shutdown()
    }

    // MARK: - Requests

    /// The kind to use: `explicit`, else the kind an untyped object names, else `T`'s.
    func resolveKind<T: KubeObject>(_ type: T.Type, _ explicit: ResourceKind?, object: T? = nil) throws(KubeError) -> ResourceKind {
        if let explicit { return explicit }
        if T.self == UnstructuredObject.self {
            guard let object, let apiVersion = object.apiVersion, let kind = object.kind,
                  let known = ResourceKind.known(apiVersion: apiVersion, kind: kind)
            else {
                throw KubeError(.invalidRequest, "an UnstructuredObject needs an explicit kind: (its apiVersion and kind name no known kind)")
            }
            return known
        }
        return T.resourceKind
    }

    /// The namespace for a call on one object of `kind`: `nil` for cluster-scoped kinds.
    func namespace(_ given: String?, for kind: ResourceKind) -> String? {
        guard kind.namespaced else { return nil }
        if let given, !given.isEmpty { return given }
        return config.namespace
    }

    func url(_ path: String, _ query: [(String, String)] = []) -> String {
        config.server + path + queryString(query)
    }

    /// Sends one request and returns the JSON object of a 2xx answer; other answers throw.
    func send(
        _ method: HTTPClientRequest.Method, _ path: String, query: [(String, String)] = [],
        body: JSONValue? = nil, contentType: String = "application/json"
    ) async throws(KubeError) -> JSONObject {
        let description = "\(method) \(path)"
        var headers: HTTPClientHeaders = ["Accept": "application/json"]
        if body != nil { headers.add("Content-Type", contentType) }
        let request = HTTPClientRequest(method, url(path, query), headers: headers, body: body?.serialized())
        var attempt = 1
        var response: HTTPClientResponse
        while true {
            try await acquireRateLimit(description)
            let start = ContinuousClock.now
            do {
                response = try await http.send(request)
            } catch {
                throw Self.transportError(error, description)
            }
            logger.debug("kube request", metadata: [
                "method": "\(method)", "path": "\(path)", "status": "\(response.status)",
                "duration_ms": "\(milliseconds(ContinuousClock.now - start))",
            ])
            // The server sends Retry-After when it did not process the request (priority and
            // fairness throttling, a 429, or a 5xx while starting): safe to send again.
            guard let delay = Self.retryAfter(response), attempt < Self.maxRetryAfterAttempts else { break }
            logger.info("API server asked to retry later", metadata: [
                "method": "\(method)", "path": "\(path)", "status": "\(response.status)", "retry_after_ms": "\(milliseconds(delay))",
            ])
            attempt += 1
            do {
                try await Task.sleep(for: delay)
            } catch {
                throw KubeError(.cancelled, "\(description): cancelled while waiting to retry")
            }
        }
        guard response.isSuccess else {
            throw KubeError.api(Self.status(of: response.status, body: response.body), request: description)
        }
        do {
            let value = try JSONValue(parsing: response.body)
            guard let object = value.object else {
                throw KubeError(.decode, "\(description): expected a JSON object, got \(value.typeName)")
            }
            return object
        } catch let error as KubeError {
            throw error
        } catch {
            throw KubeError(.decode, "\(description): the answer is not JSON: \(error)", cause: error)
        }
    }

    /// Opens a streaming GET (a watch) and returns it once the server answered 2xx.
    func openStream(_ path: String, query: [(String, String)]) async throws(KubeError) -> (HTTPClientStreamingResponse, String) {
        let description = "WATCH \(path)"
        try await acquireRateLimit(description)
        let request = HTTPClientRequest(.get, url(path, query), headers: ["Accept": "application/json"])
        let response: HTTPClientStreamingResponse
        do {
            response = try await http.stream(request)
        } catch {
            throw Self.transportError(error, description)
        }
        guard response.isSuccess else {
            // An error answer is short: read it whole for its Status.
            var body: [UInt8] = []
            do {
                for try await chunk in response.body {
                    body += chunk
                    if body.count > 1 << 20 { break }
                }
            } catch {
                response.cancel()
            }
            throw KubeError.api(Self.status(of: response.status, body: body), request: description)
        }
        return (response, description)
    }

    static let maxRetryAfterAttempts = 4

    /// How long a 429 or 5xx answer with `Retry-After: SECONDS` asks to wait (at most 10 s);
    /// `nil` for any other answer.
    static func retryAfter(_ response: HTTPClientResponse) -> Duration? {
        guard response.status == 429 || (500..<600).contains(response.status),
              let text = response.headers.first("Retry-After"), let seconds = Int(text.trimmingCharacters(in: .whitespaces)), seconds >= 0
        else { return nil }
        return .seconds(min(seconds, 10))
    }

    private func acquireRateLimit(_ description: String) async throws(KubeError) {
        do {
            try await rateLimiter.acquire()
        } catch {
            throw KubeError(.cancelled, "\(description): cancelled while waiting for the client's rate limit")
        }
    }

    static func transportError(_ error: HTTPClientError, _ description: String) -> KubeError {
        switch error.code {
        case .cancelled, .shutdown: KubeError(.cancelled, "\(description): cancelled", cause: error)
        case .invalidRequest: KubeError(.invalidRequest, "\(description): \(error.message)", cause: error)
        default: KubeError(.transport, "\(description) failed", cause: error)
        }
    }

    /// The Status in an error answer, or one made from the HTTP status when the body is not one.
    static func status(of code: Int, body: [UInt8]) -> KubeStatus {
        if let object = try? JSONValue(parsing: body).object, var status = KubeStatus(json: object) {
            if status.code == 0 { status.code = code }
            return status
        }
        let text = String(decoding: body.prefix(512), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return KubeStatus(code: code, reason: StatusReason(httpCode: code), message: text.isEmpty ? "HTTP \(code)" : text)
    }
}
