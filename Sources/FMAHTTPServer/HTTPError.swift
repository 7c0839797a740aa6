public import FMARPC
public import NIOHTTP1

/// An error a handler throws to answer with a given status: the body is `message` and a newline
/// (text/plain). Any other error a handler throws is a 500, except `RPCError`, whose code maps
/// onto the usual HTTP status (see `init(_:)`).
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponseStatus
    public var message: String
    /// Extra response headers, e.g. `Allow` on a 405.
    public var headers: HTTPHeaders
    public var cause: (any Error)?

    public init(_ status: HTTPResponseStatus, _ message: String, headers: HTTPHeaders = [:], cause: (any Error)? = nil) {
        self.status = status
        self.message = message
        self.headers = headers
        self.cause = cause
    }

    /// The HTTP form of an RPC status: INVALID_ARGUMENT and OUT_OF_RANGE 400, UNAUTHENTICATED 401,
    /// PERMISSION_DENIED 403, NOT_FOUND 404, ALREADY_EXISTS and ABORTED 409, FAILED_PRECONDITION
    /// 412, RESOURCE_EXHAUSTED 429, CANCELLED 499, UNIMPLEMENTED 501, UNAVAILABLE 503,
    /// DEADLINE_EXCEEDED 504, anything else 500. The message is kept.
    public init(_ error: RPCError) {
        let status: HTTPResponseStatus
        switch error.code {
        case .invalidArgument, .outOfRange: status = .badRequest
        case .unauthenticated: status = .unauthorized
        case .permissionDenied: status = .forbidden
        case .notFound: status = .notFound
        case .alreadyExists, .aborted: status = .conflict
        case .failedPrecondition: status = .preconditionFailed
        case .resourceExhausted: status = .tooManyRequests
        case .cancelled: status = .custom(code: 499, reasonPhrase: "Client Closed Request")
        case .unimplemented: status = .notImplemented
        case .unavailable: status = .serviceUnavailable
        case .deadlineExceeded: status = .gatewayTimeout
        default: status = .internalServerError
        }
        self.init(status, error.message, cause: error)
    }

    public var description: String { "\(status.code) \(status.reasonPhrase): \(message)" }
}
