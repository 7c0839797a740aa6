import FMAKubeModel
import Foundation

/// The current time as Kubernetes writes it (`KubeTime`), and random uids and names.
enum Timestamp {
    static func now(plusSeconds seconds: Int64 = 0) -> String {
        KubeTime.string(Date(timeIntervalSinceNow: TimeInterval(seconds)))
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
