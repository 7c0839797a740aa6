/// A shared secret that TCP calls carry as `authorization: Bearer TOKEN`.
public struct BearerToken: Sendable, CustomStringConvertible {
    private let bytes: [UInt8]

    /// A token; surrounding white space (a trailing newline in a token file) is dropped.
    public init?(_ text: String) {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { return nil }
        bytes = Array(trimmed.utf8)
    }

    /// The metadata value that carries this token.
    public var authorizationValue: String { "Bearer " + String(decoding: bytes, as: UTF8.self) }

    /// Checks an `authorization` metadata value, in time independent of where it differs. The
    /// scheme is matched without regard to case (`Bearer`, `bearer`), as RFC 6750 and gRPC do;
    /// the token exactly.
    public func authorizes(_ authorization: String?) -> Bool {
        guard let authorization else { return false }
        let value = Array(authorization.utf8)
        let scheme = Array("bearer".utf8)
        guard value.count > scheme.count, value[scheme.count] == UInt8(ascii: " "),
              zip(value.prefix(scheme.count), scheme).allSatisfy({ $0 | 0x20 == $1 }) else { return false }
        let offered = Array(value.dropFirst(scheme.count + 1))
        var difference = UInt8(truncatingIfNeeded: offered.count ^ bytes.count)
        for index in 0..<bytes.count {
            let other = index < offered.count ? offered[index] : 0
            difference |= bytes[index] ^ other
        }
        return difference == 0
    }

    /// Never reveals the secret in logs.
    public var description: String { "BearerToken(\(bytes.count) bytes)" }
}

extension String {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
