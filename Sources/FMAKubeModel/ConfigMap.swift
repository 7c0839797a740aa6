public import FMAJSON

/// A core/v1 ConfigMap. `binaryData` and `immutable` stay in `json`.
public struct ConfigMap: KubeObject {
    public static var resourceKind: ResourceKind { .configMap }
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    public var data: [String: String] {
        get { json.stringMap("data") }
        set { json.setStringMap("data", newValue) }
    }
}
