public import FMAJSON

/// fma.llm-d.ai/v1alpha1 InferenceServerConfig (`isc`): the parameters of one kind of vLLM
/// instance run inside a launcher.
public struct InferenceServerConfig: KubeObject {
    public static var resourceKind: ResourceKind { .inferenceServerConfig }
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    public var spec: InferenceServerConfigSpec {
        get { json.viewOrEmpty("spec") }
        set { json.setView("spec", newValue) }
    }

    public var status: FMAStatus {
        get { json.viewOrEmpty("status") }
        set { json.setViewOrRemove("status", newValue) }
    }
}

/// The `spec` of an InferenceServerConfig.
public struct InferenceServerConfigSpec: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public var modelServerConfig: ModelServerConfig {
        get { json.viewOrEmpty("modelServerConfig") }
        set { json.setView("modelServerConfig", newValue) }
    }

    /// The LauncherConfig whose launchers host this server.
    public var launcherConfigName: String {
        get { json.string("launcherConfigName") ?? "" }
        set { json.setString("launcherConfigName", newValue) }
    }
}

/// `spec.modelServerConfig`: how the vLLM instance runs.
public struct ModelServerConfig: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    /// The port the instance listens on (and where sleep and wake are called), 1...65535.
    public var port: Int {
        get { Int(json.int("port") ?? 0) }
        set { json.setInt("port", Int64(newValue)) }
    }

    /// vLLM's command-line options without the port, split on white space by the launcher.
    public var options: String? {
        get { json.string("options") }
        set { json.setString("options", newValue) }
    }

    /// The instance's environment (JSON name `env_vars`).
    public var envVars: [String: String] {
        get { json.stringMap("env_vars") }
        set { json.setStringMap("env_vars", newValue) }
    }

    /// Labels put on the launcher Pod while it serves this config.
    public var labels: [String: String] {
        get { json.stringMap("labels") }
        set { json.setStringMap("labels", newValue) }
    }

    /// Annotations put on the launcher Pod while it serves this config.
    public var annotations: [String: String] {
        get { json.stringMap("annotations") }
        set { json.setStringMap("annotations", newValue) }
    }
}
