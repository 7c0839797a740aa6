import Foundation

/// RFC 3339 times as Kubernetes writes them (`2026-11-29T12:00:00Z`), and random names.
enum Timestamp {
    static func now(plusSeconds seconds: Int64 = 0) -> String {
        Date(timeIntervalSinceNow: TimeInterval(seconds)).formatted(.iso8601)
    }

    static func parse(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }

    static func uid() -> String {
        UUID().uuidString.lowercased()
    }

    private static let nameAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    /// Five characters from the alphabet the API server uses for `generateName`.
    static func randomSuffix() -> String {
        String((0..<5).map { _ in nameAlphabet.randomElement()! })
    }
}
