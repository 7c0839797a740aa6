public import FMAJSON

/// An apps/v1 ReplicaSet.
public struct ReplicaSet: KubeObject {
    public static var resourceKind: ResourceKind { .replicaSet }
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    public var spec: ReplicaSetSpec {
        get { json.viewOrEmpty("spec") }
        set { json.setView("spec", newValue) }
    }

    public var status: ReplicaSetStatus {
        get { json.viewOrEmpty("status") }
        set { json.setViewOrRemove("status", newValue) }
    }
}

/// An apps/v1 ReplicaSetSpec.
public struct ReplicaSetSpec: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    /// The desired count; 1 when absent, as the API server defaults it.
    public var replicas: Int64 {
        get { json.int("replicas") ?? 1 }
        set { json.setInt("replicas", newValue) }
    }

    /// `selector` as sent (a `metav1.LabelSelector` object).
    public var selector: JSONValue? {
        get { json["selector"] }
        set { json["selector"] = newValue }
    }

    /// `selector` read as a LabelSelector.
    public func labelSelector() throws(SelectorError) -> LabelSelector {
        try LabelSelector(object: selector)
    }

    public var template: PodTemplateSpec {
        get { json.viewOrEmpty("template") }
        set { json.setView("template", newValue) }
    }
}

/// An apps/v1 ReplicaSetStatus.
public struct ReplicaSetStatus: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public var replicas: Int64 {
        get { json.int("replicas") ?? 0 }
        set { json.setInt("replicas", newValue) }
    }

    public var readyReplicas: Int64 {
        get { json.int("readyReplicas") ?? 0 }
        set { json.setInt("readyReplicas", newValue == 0 ? nil : newValue) }
    }

    public var availableReplicas: Int64 {
        get { json.int("availableReplicas") ?? 0 }
        set { json.setInt("availableReplicas", newValue == 0 ? nil : newValue) }
    }

    public var observedGeneration: Int64? {
        get { json.int("observedGeneration") }
        set { json.setInt("observedGeneration", newValue) }
    }
}

/// A Pod template: the metadata and spec of Pods made from it (a ReplicaSet's `template`, a
/// LauncherConfig's `podTemplate`).
public struct PodTemplateSpec: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public var metadata: ObjectMeta {
        get { ObjectMeta(json: json["metadata"]?.object ?? JSONObject()) }
        set { json["metadata"] = newValue.json.isEmpty ? nil : .object(newValue.json) }
    }

    public var spec: PodSpec {
        get { json.viewOrEmpty("spec") }
        set { json.setView("spec", newValue) }
    }
}
