/// Why an HTTP request failed: a code to branch on, a message that names the request (method
/// and URL) and libcurl's own explanation, libcurl's error code when libcurl reported the
/// failure, and the lower-level error that caused it, if any.
///
/// A response with any status (404, 500, ...) is not an error: `send` returns it.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable {
        /// The request itself is unusable: a malformed URL or method, a header with a line break.
        case invalidRequest
        /// The client's configuration could not be applied, e.g. the bearer token provider threw.
        case configuration
        /// No connection: the name did not resolve, the connection was refused or unreachable.
        case connect
        /// The request's timeout or connect timeout passed.
        case timeout
        /// TLS failed: the server's certificate is not trusted, a certificate or key is unusable,
        /// the handshake failed.
        case tls
        /// The caller cancelled: its task was cancelled or it stopped reading a stream.
        case cancelled
        /// The response body is larger than the request allows.
        case tooLarge
        /// The server's answer is not valid HTTP, or HTTP/2 failed.
        case `protocol`
        /// The connection broke after it was established (reset, closed early, nothing received).
        case transport
        /// The client was shut down before or while the request ran.
        case shutdown
        /// libcurl failed in a way none of the codes above describes (e.g. out of memory).
        case `internal`
    }

    public var code: Code
    public var message: String
    /// libcurl's `CURLcode`, when libcurl reported the failure.
    public var curlCode: Int?
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, curlCode: Int? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.curlCode = curlCode
        self.cause = cause
    }

    public var description: String {
        if let curlCode { return "\(code.rawValue): \(message) (curl error \(curlCode))" }
        return "\(code.rawValue): \(message)"
    }
}
