public import FMAJSON

/// A core/v1 Node. Its labels are in `metadata.labels`.
public struct Node: KubeObject {
    public static var resourceKind: ResourceKind { .node }
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    public var spec: NodeSpec {
        get { json.viewOrEmpty("spec") }
        set { json.setView("spec", newValue) }
    }

    public var status: NodeStatus {
        get { json.viewOrEmpty("status") }
        set { json.setViewOrRemove("status", newValue) }
    }

    /// Whether the Node's `Ready` condition is `True`.
    public var isReady: Bool { status.condition("Ready")?.isTrue ?? false }
}

/// A core/v1 NodeSpec.
public struct NodeSpec: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    /// Cordoned: no new Pods are scheduled here.
    public var unschedulable: Bool {
        get { json.bool("unschedulable") ?? false }
        set { json.setBool("unschedulable", newValue ? true : nil) }
    }

    public var taints: [Taint] {
        get { json.views("taints") }
        set { json.setViews("taints", newValue) }
    }
}

/// A core/v1 NodeStatus: resources, conditions and addresses.
public struct NodeStatus: JSONObjectView, HasConditions {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    /// Resource name → quantity text (`cpu: "8"`, `nvidia.com/gpu: "4"`).
    public var capacity: [String: String] {
        get { json.stringMap("capacity") }
        set { json.setStringMap("capacity", newValue) }
    }

    /// What Pods may use: capacity minus what the system reserves.
    public var allocatable: [String: String] {
        get { json.stringMap("allocatable") }
        set { json.setStringMap("allocatable", newValue) }
    }

    public var conditions: [Condition] {
        get { json.views("conditions") }
        set { json.setViews("conditions", newValue) }
    }

    /// `addresses` as sent (`[{type: InternalIP, address: ...}]`).
    public var addresses: [JSONValue] {
        get { json["addresses"]?.array ?? [] }
        set { json["addresses"] = newValue.isEmpty ? nil : .array(newValue) }
    }
}

/// A node taint: Pods that do not tolerate it are kept off (`NoSchedule`), preferably off
/// (`PreferNoSchedule`) or evicted (`NoExecute`).
public struct Taint: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public init(key: String, value: String? = nil, effect: String) {
        json = ["key": .string(key)]
        if let value { json["value"] = .string(value) }
        json["effect"] = .string(effect)
    }

    public var key: String {
        get { json.string("key") ?? "" }
        set { json.setString("key", newValue) }
    }

    public var value: String? {
        get { json.string("value") }
        set { json.setString("value", newValue) }
    }

    public var effect: String {
        get { json.string("effect") ?? "" }
        set { json.setString("effect", newValue) }
    }

    public var timeAdded: String? {
        get { json.string("timeAdded") }
        set { json.setString("timeAdded", newValue) }
    }
}
