public import FMAJSON
public import FMAKubeModel

/// The vLLM instance a requester wants, resolved from its InferenceServerConfig and its GPUs
/// (FMA's `VllmConfig` plus what the controller keeps beside it).
public struct DesiredInstance: Sendable, Hashable {
    /// `I` + base64url(SHA-256(canonical modelServerConfig ‖ ";gpus=" ‖ UUIDs joined by ",")) + `i`:
    /// 45 characters, a valid label value. Any change of the model server config or of the GPUs
    /// names another instance; the ISC's name and its LauncherConfig do not enter it.
    public var id: String
    /// vLLM's options, `--port P` appended (FMA's form: one string, split on white space).
    public var options: String
    public var gpuUUIDs: [String]
    public var envVars: [String: String]
    /// Opaque to the launcher: `isc-name` and `inference-port`.
    public var annotations: [String: String]
    public var port: Int
    /// Routing metadata put on the launcher Pod once the instance serves.
    public var labels: [String: String]
    public var podAnnotations: [String: String]
    public var iscName: String

    /// Resolves `isc` for the GPUs `gpuUUIDs` (in the order the requester reported them).
    public init(isc: InferenceServerConfig, gpuUUIDs: [String]) throws(ControllerError) {
        let config = isc.spec.modelServerConfig
        guard (1...65535).contains(config.port) else {
            throw ControllerError("InferenceServerConfig \(isc.metadata.name): spec.modelServerConfig.port \(config.port) is not a port from 1 to 65535")
        }
        id = Self.instanceID(config: config, gpuUUIDs: gpuUUIDs)
        options = (config.options ?? "") + " --port \(config.port)"
        self.gpuUUIDs = gpuUUIDs
        envVars = config.envVars
        annotations = [DualPods.instanceISCNameAnnotation: isc.metadata.name,
                       DualPods.instanceInferencePortAnnotation: String(config.port)]
        port = config.port
        labels = config.labels
        podAnnotations = config.annotations
        iscName = isc.metadata.name
    }

    /// The id of the instance `config` makes on `gpuUUIDs`.
    public static func instanceID(config: ModelServerConfig, gpuUUIDs: [String]) -> String {
        var bytes = Hashing.canonicalBytes(.object(config.json))
        bytes += Array(";gpus=\(gpuUUIDs.joined(separator: ","))".utf8)
        return "I" + Hashing.base64URL(Hashing.sha256(bytes)) + "i"
    }

    /// FMA's VllmConfig JSON (`options`, `gpu_uuids`, `env_vars`, `annotations`), as written in
    /// the bound launcher Pod's `vllm-config` annotation.
    public var vllmConfigJSON: JSONValue {
        var object: JSONObject = ["options": .string(options)]
        if !gpuUUIDs.isEmpty { object["gpu_uuids"] = .array(gpuUUIDs.map { .string($0) }) }
        if !envVars.isEmpty { object["env_vars"] = JSONValue(stringMap: envVars) }
        object["annotations"] = JSONValue(stringMap: annotations)
        return .object(object)
    }

    /// `{"labels":{…},"annotations":{…}}`, empty maps left out (FMA's `isc-routing-metadata`).
    public var routingMetadataJSON: JSONValue {
        var object = JSONObject()
        if !labels.isEmpty { object["labels"] = JSONValue(stringMap: labels) }
        if !podAnnotations.isEmpty { object["annotations"] = JSONValue(stringMap: podAnnotations) }
        return .object(object)
    }

    /// Reads back what a bound launcher Pod's annotations committed (after a controller
    /// restart). Throws naming the missing or unreadable annotation.
    public init(boundLauncher pod: Pod) throws(ControllerError) {
        let annotations = pod.metadata.annotations
        func value(_ key: String) throws(ControllerError) -> String {
            guard let text = annotations[key], !text.isEmpty else {
                throw ControllerError("bound launcher Pod \"\(pod.metadata.name)\" is missing annotation \"\(key)\"")
            }
            return text
        }
        id = try value(DualPods.Annotation.instanceID)
        guard let port = Int(try value(DualPods.Annotation.serverPort)), (1...65535).contains(port) else {
            throw ControllerError("bound launcher Pod \"\(pod.metadata.name)\": annotation \"\(DualPods.Annotation.serverPort)\" is not a port")
        }
        self.port = port
        let configText = try value(DualPods.Annotation.vllmConfig)
        let routingText = try value(DualPods.Annotation.iscRoutingMetadata)
        guard let config = (try? JSONValue(parsing: configText))?.object, let routing = (try? JSONValue(parsing: routingText))?.object else {
            throw ControllerError("bound launcher Pod \"\(pod.metadata.name)\": annotation \"\(DualPods.Annotation.vllmConfig)\" or \"\(DualPods.Annotation.iscRoutingMetadata)\" is not a JSON object")
        }
        options = config["options"]?.string ?? ""
        gpuUUIDs = config["gpu_uuids"]?.array?.compactMap(\.string) ?? []
        envVars = config["env_vars"]?.stringMap ?? [:]
        self.annotations = config["annotations"]?.stringMap ?? [:]
        labels = routing["labels"]?.stringMap ?? [:]
        podAnnotations = routing["annotations"]?.stringMap ?? [:]
        iscName = self.annotations[DualPods.instanceISCNameAnnotation] ?? ""
    }
}
