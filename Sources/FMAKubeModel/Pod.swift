public import FMAJSON

/// A core/v1 Pod: typed `spec` and `status` over the object's JSON.
public struct Pod: KubeObject {
    public static var resourceKind: ResourceKind { .pod }
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    public var spec: PodSpec {
        get { json.viewOrEmpty("spec") }
        set { json.setView("spec", newValue) }
    }

    /// Written by the kubelet (or fma-devcluster's node simulator) through the status subresource.
    public var status: PodStatus {
        get { json.viewOrEmpty("status") }
        set { json.setViewOrRemove("status", newValue) }
    }

    /// Whether the Pod's `Ready` condition is `True`.
    public var isReady: Bool { status.condition("Ready")?.isTrue ?? false }

    /// Whether deletion has begun (`metadata.deletionTimestamp` is set).
    public var isTerminating: Bool { metadata.deletionTimestamp != nil }
}
