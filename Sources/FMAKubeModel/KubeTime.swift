public import Foundation

/// Kubernetes' `metav1.Time` as text: RFC 3339 in UTC with whole seconds
/// (`2026-11-29T12:00:00Z`), the one format every timestamp field is written in.
public enum KubeTime {
    /// `date` as Kubernetes writes it.
    public static func string(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// The time `text` names; nil when it is not RFC 3339.
    public static func date(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }
}
