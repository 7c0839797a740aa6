import NIOHTTP1

/// Checks a request's `Authorization: Bearer TOKEN` against the cluster's token in constant
/// time (the comparison takes as long whichever byte differs, so timing reveals nothing).
struct BearerTokenCheck: Sendable {
    private let expected: [UInt8]

    init(token: String) {
        expected = Array(token.utf8)
    }

    /// Whether `headers` carry the expected token.
    func accepts(_ headers: HTTPHeaders) -> Bool {
        guard let value = headers.first(name: "authorization") else { return false }
        let scheme = "bearer "
        guard value.count > scheme.count, value.prefix(scheme.count).lowercased() == scheme else { return false }
        var given = Array(value.utf8.dropFirst(scheme.utf8.count))
        while given.last == UInt8(ascii: " ") { given.removeLast() }
        return Self.constantTimeEqual(given, expected)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
