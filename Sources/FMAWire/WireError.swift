/// Why bytes read from a connection could not be turned into a frame.
///
/// Every case is a connection error (docs/wire-protocol.md §8): the stream cannot be trusted
/// after it, so the reader answers with a call-id-0 status and closes the connection.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The length prefix announced more bytes than the receiver accepts.
    case frameTooLarge(length: Int, limit: Int)
    /// The announced bytes arrived but do not decode as a `fma.v1.Frame`.
    case malformedFrame(reason: String)
    /// The connection ended in the middle of a frame.
    case truncatedFrame(received: Int, expected: Int)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit):
            return "frame of \(length) bytes exceeds the limit of \(limit) bytes"
        case .malformedFrame(let reason):
            return "malformed frame: \(reason)"
        case .truncatedFrame(let received, let expected):
            return "connection closed in the middle of a frame (\(received) of \(expected) bytes)"
        }
    }

    /// The status code a server sends with call id 0 before it closes the connection.
    public var statusCode: Fma_V1_StatusCode {
        switch self {
        case .frameTooLarge: return .resourceExhausted
        case .malformedFrame, .truncatedFrame: return .invalidArgument
        }
    }
}
