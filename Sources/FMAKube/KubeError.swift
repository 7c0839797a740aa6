public import FMAKubeModel

/// Why a Kubernetes API call failed.
///
/// `.api` failures carry the server's `Status` (code, reason, message), so callers branch on
/// what the API server said: `isNotFound`, `isConflict` (409 on an update with a stale
/// resourceVersion), `isAlreadyExists`, `isGone` (410: a watch or continue token too old).
/// Transport failures (no connection, TLS, timeout) keep the HTTP client's error as `cause`.
public struct KubeError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The API server answered with an error status; `status` says which.
        case api
        /// The request did not complete: connection, TLS, timeout, a broken stream.
        case transport
        /// The server's answer could not be read: not JSON, or not the object expected.
        case decode
        /// The request could not be made: a missing name or namespace, an unknown kind.
        case invalidRequest
        /// The calling task was cancelled (or the client shut down).
        case cancelled
    }

    public var code: Code
    public var message: String
    /// The API server's Status for `.api` failures.
    public var status: KubeStatus?
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, status: KubeStatus? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.cause = cause
    }

    /// An `.api` error for `status`.
    public static func api(_ status: KubeStatus, request: String) -> KubeError {
        KubeError(.api, "\(request): \(status)", status: status)
    }

    /// The HTTP status code of an `.api` failure.
    public var statusCode: Int? { status?.code }
    public var reason: StatusReason? { status?.reason }

    public var isNotFound: Bool { status?.code == 404 || status?.reason == .notFound }
    /// 409 Conflict: the object changed since it was read (not an AlreadyExists 409).
    public var isConflict: Bool { status?.reason == .conflict || (status?.code == 409 && status?.reason != .alreadyExists) }
    public var isAlreadyExists: Bool { status?.reason == .alreadyExists }
    /// 410 Gone / Expired: a watch's resourceVersion or a list's continue token is too old.
    public var isGone: Bool { status?.code == 410 || status?.reason == .gone || status?.reason == .expired }
    public var isInvalid: Bool { status?.code == 422 || status?.reason == .invalid }
    public var isForbidden: Bool { status?.code == 403 }
    public var isUnauthorized: Bool { status?.code == 401 }
    public var isTooManyRequests: Bool { status?.code == 429 }

    public var description: String {
        if let cause, code != .api { return "\(message): \(cause)" }
        return message
    }
}
