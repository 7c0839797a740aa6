public import FMAJSON

/// fma.llm-d.ai/v1alpha1 LauncherConfig (`lcfg`): the Pod template of launcher Pods and how
/// many vLLM instances one launcher may hold.
public struct LauncherConfig: KubeObject {
    public static var resourceKind: ResourceKind { .launcherConfig }
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    public var spec: LauncherConfigSpec {
        get { json.viewOrEmpty("spec") }
        set { json.setView("spec", newValue) }
    }

    public var status: FMAStatus {
        get { json.viewOrEmpty("status") }
        set { json.setViewOrRemove("status", newValue) }
    }
}

/// The `spec` of a LauncherConfig.
public struct LauncherConfigSpec: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    /// Launcher Pods are made from this; its spec must have a container named
    /// `inference-server` running the launcher on port 8001.
    public var podTemplate: PodTemplateSpec {
        get { json.viewOrEmpty("podTemplate") }
        set { json.setView("podTemplate", newValue) }
    }

    /// The cap on vLLM instances per launcher Pod (≥ 1).
    public var maxInstances: Int {
        get { Int(json.int("maxInstances") ?? 0) }
        set { json.setInt("maxInstances", Int64(newValue)) }
    }
}
