public import FMAJSON

/// A core/v1 Event: something that happened to an object (`involvedObject`), for people
/// reading `kubectl describe` and `kubectl get events`.
public struct Event: KubeObject {
    public static var resourceKind: ResourceKind { .event }
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    /// A new Event (`count` 1) about `involvedObject`, first and last seen at `timestamp`
    /// (`KubeTime`), reported by `component` on `instance`; `host` is `source.host`.
    public init(
        name: String, namespace: String, about involvedObject: ObjectReference, type: String, reason: String, message: String,
        component: String, instance: String, host: String?, timestamp: String
    ) {
        self.init(name: name, namespace: namespace)
        self.involvedObject = involvedObject
        self.type = type
        self.reason = reason
        self.message = message
        count = 1
        firstTimestamp = timestamp
        lastTimestamp = timestamp
        sourceComponent = component
        sourceHost = host
        reportingComponent = component
        reportingInstance = instance
    }

    public var involvedObject: ObjectReference {
        get { json.viewOrEmpty("involvedObject") }
        set { json.setView("involvedObject", newValue) }
    }

    /// A short CamelCase word (`Scheduled`, `BoundToProvider`).
    public var reason: String? {
        get { json.string("reason") }
        set { json.setString("reason", newValue) }
    }

    public var message: String? {
        get { json.string("message") }
        set { json.setString("message", newValue) }
    }

    /// `Normal` or `Warning`.
    public var type: String? {
        get { json.string("type") }
        set { json.setString("type", newValue) }
    }

    public var count: Int64 {
        get { json.int("count") ?? 0 }
        set { json.setInt("count", newValue) }
    }

    public var firstTimestamp: String? {
        get { json.string("firstTimestamp") }
        set { json.setString("firstTimestamp", newValue) }
    }

    public var lastTimestamp: String? {
        get { json.string("lastTimestamp") }
        set { json.setString("lastTimestamp", newValue) }
    }

    /// `source.component`: the component that reported the event (older field).
    public var sourceComponent: String? {
        get { json[path: ["source", "component"]]?.string }
        set { json[path: ["source", "component"]] = newValue.map { .string($0) } }
    }

    /// `source.host`.
    public var sourceHost: String? {
        get { json[path: ["source", "host"]]?.string }
        set { json[path: ["source", "host"]] = newValue.map { .string($0) } }
    }

    public var reportingComponent: String? {
        get { json.string("reportingComponent") }
        set { json.setString("reportingComponent", newValue) }
    }

    public var reportingInstance: String? {
        get { json.string("reportingInstance") }
        set { json.setString("reportingInstance", newValue) }
    }
}

/// A reference to an object (an Event's `involvedObject`).
public struct ObjectReference: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    /// A reference to `object`: its apiVersion, kind, namespace, name, uid and resourceVersion.
    public init(_ object: some KubeObject) {
        json = JSONObject()
        apiVersion = object.apiVersion ?? type(of: object).resourceKind.apiVersion
        kind = object.kind ?? type(of: object).resourceKind.kind
        let meta = object.metadata
        namespace = meta.namespace.isEmpty ? nil : meta.namespace
        name = meta.name
        uid = meta.uid.isEmpty ? nil : meta.uid
        resourceVersion = meta.resourceVersion.isEmpty ? nil : meta.resourceVersion
    }

    public var apiVersion: String? {
        get { json.string("apiVersion") }
        set { json.setString("apiVersion", newValue) }
    }

    public var kind: String? {
        get { json.string("kind") }
        set { json.setString("kind", newValue) }
    }

    public var namespace: String? {
        get { json.string("namespace") }
        set { json.setString("namespace", newValue) }
    }

    public var name: String {
        get { json.string("name") ?? "" }
        set { json.setString("name", newValue) }
    }

    public var uid: String? {
        get { json.string("uid") }
        set { json.setString("uid", newValue) }
    }

    public var resourceVersion: String? {
        get { json.string("resourceVersion") }
        set { json.setString("resourceVersion", newValue) }
    }

    /// A part of the object (`spec.containers{inference-server}`).
    public var fieldPath: String? {
        get { json.string("fieldPath") }
        set { json.setString("fieldPath", newValue) }
    }
}
