public import FMAJSON

/// One container of a PodSpec.
public struct Container: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public init(name: String, image: String) {
        json = ["name": .string(name), "image": .string(image)]
    }

    public var name: String {
        get { json.string("name") ?? "" }
        set { json.setString("name", newValue) }
    }

    public var image: String? {
        get { json.string("image") }
        set { json.setString("image", newValue) }
    }

    /// The entrypoint; empty means the image's.
    public var command: [String] {
        get { json.strings("command") }
        set { json.setStrings("command", newValue) }
    }

    public var args: [String] {
        get { json.strings("args") }
        set { json.setStrings("args", newValue) }
    }

    public var env: [EnvVar] {
        get { json.views("env") }
        set { json.setViews("env", newValue) }
    }

    public var ports: [ContainerPort] {
        get { json.views("ports") }
        set { json.setViews("ports", newValue) }
    }

    public var resources: ResourceRequirements {
        get { json.viewOrEmpty("resources") }
        set { json.setViewOrRemove("resources", newValue) }
    }

    public var readinessProbe: Probe? {
        get { json.view("readinessProbe") }
        set { json.setView("readinessProbe", newValue) }
    }

    public var livenessProbe: Probe? {
        get { json.view("livenessProbe") }
        set { json.setView("livenessProbe", newValue) }
    }
}

/// An environment variable: a literal `value`, or `valueFrom` (field, secret or ConfigMap
/// references) kept as sent.
public struct EnvVar: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public init(name: String, value: String) {
        json = ["name": .string(name), "value": .string(value)]
    }

    public var name: String {
        get { json.string("name") ?? "" }
        set { json.setString("name", newValue) }
    }

    public var value: String? {
        get { json.string("value") }
        set { json.setString("value", newValue) }
    }

    public var valueFrom: JSONValue? {
        get { json["valueFrom"] }
        set { json["valueFrom"] = newValue }
    }
}

/// A port a container exposes.
public struct ContainerPort: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public init(containerPort: Int, name: String? = nil) {
        json = ["containerPort": .int(Int64(containerPort))]
        if let name { json["name"] = .string(name) }
    }

    public var name: String? {
        get { json.string("name") }
        set { json.setString("name", newValue) }
    }

    public var containerPort: Int {
        get { Int(json.int("containerPort") ?? 0) }
        set { json.setInt("containerPort", Int64(newValue)) }
    }

    /// `TCP` when absent.
    public var `protocol`: String {
        get { json.string("protocol") ?? "TCP" }
        set { json.setString("protocol", newValue) }
    }
}

/// A container's resource `limits` and `requests`, resource name → quantity text
/// (`"nvidia.com/gpu": "2"`, `memory: "64Gi"`).
public struct ResourceRequirements: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public var limits: [String: String] {
        get { json.stringMap("limits") }
        set { json.setStringMap("limits", newValue) }
    }

    public var requests: [String: String] {
        get { json.stringMap("requests") }
        set { json.setStringMap("requests", newValue) }
    }
}
