public import FMAKubeModel

/// A provider's binding record: its `requester` annotation, `"<UID> <name>"`.
public struct Binding: Sendable, Hashable {
    public var uid: String
    public var name: String

    /// The binding the Pod records; nil when it is not bound (no annotation, or not two words).
    public init?(_ pod: Pod) {
        guard let value = pod.metadata.annotation(DualPods.Annotation.requester) else { return nil }
        let parts = value.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        uid = String(parts[0])
        name = String(parts[1])
    }

    public init(uid: String, name: String) {
        self.uid = uid
        self.name = name
    }

    public var annotationValue: String { "\(uid) \(name)" }
}
