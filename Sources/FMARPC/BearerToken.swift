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

    /// Checks an `authorization` metadata value, in time independent of where it differs.
    public func authorizes(_ authorization: String?) -> Bool {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        let offered = Array(authorization.utf8.dropFirst("Bearer ".utf8.count))
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
