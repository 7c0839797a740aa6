public import FMAJSON

/// A core/v1 PodSpec: where the Pod runs and what it runs. Fields without an accessor (volumes,
/// security contexts, ...) stay in `json`.
public struct PodSpec: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    /// The node the Pod is bound to; empty until scheduled.
    public var nodeName: String? {
        get { json.string("nodeName") }
        set { json.setString("nodeName", newValue) }
    }

    public var nodeSelector: [String: String] {
        get { json.stringMap("nodeSelector") }
        set { json.setStringMap("nodeSelector", newValue) }
    }

    public var containers: [Container] {
        get { json.views("containers") }
        set { json["containers"] = .array(newValue.map { .object($0.json) }) }
    }

    public var initContainers: [Container] {
        get { json.views("initContainers") }
        set { json.setViews("initContainers", newValue) }
    }

    /// The container named `name`.
    public func container(named name: String) -> Container? {
        containers.first { $0.name == name }
    }

    /// `affinity` as sent (node, pod and anti-affinity rules), uninterpreted.
    public var affinity: JSONValue? {
        get { json["affinity"] }
        set { json["affinity"] = newValue }
    }

    /// `tolerations` as sent, uninterpreted.
    public var tolerations: [JSONValue] {
        get { json["tolerations"]?.array ?? [] }
        set { json["tolerations"] = newValue.isEmpty ? nil : .array(newValue) }
    }

    public var terminationGracePeriodSeconds: Int64? {
        get { json.int("terminationGracePeriodSeconds") }
        set { json.setInt("terminationGracePeriodSeconds", newValue) }
    }

    public var restartPolicy: String? {
        get { json.string("restartPolicy") }
        set { json.setString("restartPolicy", newValue) }
    }

    public var serviceAccountName: String? {
        get { json.string("serviceAccountName") }
        set { json.setString("serviceAccountName", newValue) }
    }
}
