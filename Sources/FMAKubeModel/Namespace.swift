public import FMAJSON

/// A core/v1 Namespace.
public struct Namespace: KubeObject {
    public static var resourceKind: ResourceKind { .namespace }
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    /// `Active` or `Terminating`.
    public var phase: String? {
        get { json[path: ["status", "phase"]]?.string }
        set { json[path: ["status", "phase"]] = newValue.map { .string($0) } }
    }
}
