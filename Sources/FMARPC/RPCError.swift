public import FMAWire

/// The status of a call that did not end with OK: a code, a message naming what was wrong,
/// optional details, and the lower-level error that caused it, if any.
public struct RPCError: Error, Sendable, CustomStringConvertible {
    public var code: Fma_V1_StatusCode
    public var message: String
    public var details: [String: String]
    public var cause: (any Error)?

    public init(_ code: Fma_V1_StatusCode, _ message: String, details: [String: String] = [:], cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.details = details
        self.cause = cause
    }

    /// The error a status frame carries.
    public init(status: Fma_V1_CallStatus) {
        self.init(status.code, status.message, details: status.details)
    }

    /// The status frame body that carries this error.
    public var status: Fma_V1_CallStatus {
        var status = Fma_V1_CallStatus()
        status.code = code
        status.message = message
        status.details = details
        return status
    }

    public var description: String { "\(code.name): \(message)" }

    /// A request field that failed validation: INVALID_ARGUMENT with `{"field": field}`.
    public static func invalidArgument(field: String, _ message: String) -> RPCError {
        RPCError(.invalidArgument, message, details: ["field": field])
    }

    /// A value from a request, quoted for an error message: whole when short, else its first
    /// `limit` characters and its size, so an error never echoes a huge input back.
    public static func quote(_ value: some StringProtocol, limit: Int = 64) -> String {
        guard value.count > limit else { return "'\(value)'" }
        return "'\(value.prefix(limit))…' (\(value.utf8.count) bytes)"
    }
}
