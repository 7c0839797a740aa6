/// One HTTP request: method, absolute URL, headers, body, and the limits it runs under.
///
/// Unset limits take the client's defaults (`HTTPClient.Configuration`). The client adds
/// `User-Agent` and, when a token provider is configured, `Authorization: Bearer …`, unless the
/// request sets these headers itself.
public struct HTTPClientRequest: Sendable {
    /// An HTTP method: a token such as `GET` or `PATCH`.
    public struct Method: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }
        public var description: String { rawValue }

        public static let get = Method(rawValue: "GET")
        public static let head = Method(rawValue: "HEAD")
        public static let post = Method(rawValue: "POST")
        public static let put = Method(rawValue: "PUT")
        public static let patch = Method(rawValue: "PATCH")
        public static let delete = Method(rawValue: "DELETE")
        public static let options = Method(rawValue: "OPTIONS")
    }

    public var method: Method
    /// An absolute `http://` or `https://` URL.
    public var url: String
    public var headers: HTTPClientHeaders
    /// Sent as is with a `Content-Length`; `nil` sends no body (POST, PUT and PATCH send an
    /// empty one). No `Content-Type` is added: set it in `headers`.
    public var body: [UInt8]?
    /// The whole exchange, connecting through the last body byte; `nil` takes the client's
    /// `defaultTimeout` for `send` and means no limit for `stream`.
    public var timeout: Duration?
    /// Connecting, including the TLS handshake; `nil` takes the client's `defaultConnectTimeout`.
    public var connectTimeout: Duration?
    /// The largest body `send` accepts; `nil` takes the client's `maxResponseBodyBytes`.
    /// `stream` has no total limit (its buffering is bounded instead).
    public var maxResponseBodyBytes: Int?

    public init(
        _ method: Method = .get,
        _ url: String,
        headers: HTTPClientHeaders = [:],
        body: [UInt8]? = nil,
        timeout: Duration? = nil,
        connectTimeout: Duration? = nil,
        maxResponseBodyBytes: Int? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.maxResponseBodyBytes = maxResponseBodyBytes
    }
}
