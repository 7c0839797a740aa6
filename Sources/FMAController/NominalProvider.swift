import FMAJSON
import FMAKube
public import FMAKubeModel

/// A direct-mode provider as FMA makes it from a requester (§3.7.1): the requester's labels and
/// de-individualized spec with the rendered server patch applied as a strategic merge patch,
/// decoded strictly (an unknown field is an error), hashed with the GPU indices and the node
/// (`nominal`), then pinned to the node, given the GPUs as `CUDA_VISIBLE_DEVICES`, with its GPU
/// resources zeroed (the requester holds them) and FMA's binding metadata. Two requesters of one
/// template on the same GPUs of one node get the same hash, so one's sleeping provider can
/// serve the other.
public struct NominalProvider: Sendable {
    /// The Pod to create (`generateName` set).
    public var pod: Pod
    /// base64(SHA-256(patched Pod ‖ ";gpus=" ‖ indices ‖ ";node=" ‖ node)), no padding.
    public var hash: String
    /// The server's port, from the inference-server container's readinessProbe.
    public var serverPort: Int

    /// Builds the provider for `requester` (bound to a node) on the GPUs `indices` (whose
    /// UUIDs are `uuids`); errors are worded for the requester's status, as FMA's.
    public init(requester: Pod, indices: [Int], uuids: [String], localVolume: String = "") throws(ControllerError) {
        let meta = requester.metadata
        guard let text = meta.annotation(DualPods.Annotation.serverPatch), !text.isEmpty else {
            throw ControllerError("the \(DualPods.Annotation.serverPatch) annotation is missing")
        }
        let node = requester.spec.nodeName ?? ""
        let rendered: String
        do {
            rendered = try ServerPatchTemplate(parsing: text).render(["NodeName": node, "LocalVolume": localVolume])
        } catch {
            throw ControllerError("failed to construct the nominal server-providing Pod: \(error)")
        }
        let patch: JSONValue
        do {
            patch = try YAMLText.json(rendered)
        } catch {
            throw ControllerError("failed to construct the nominal server-providing Pod: the rendered server patch is not YAML or JSON: \(error)")
        }
        var base = Pod(name: "", namespace: meta.namespace)
        base.json["apiVersion"] = requester.json["apiVersion"] ?? "v1"
        base.json["kind"] = requester.json["kind"] ?? "Pod"
        base.json["metadata"] = ["namespace": .string(meta.namespace)]
        if !meta.labels.isEmpty { base.metadata.labels = meta.labels }
        base.spec = LauncherTemplate.deindividualized(requester.spec)
        var patched: Pod
        do {
            patched = Pod(json: try StrategicMergePatch.apply(patch, to: base.json))
        } catch {
            throw ControllerError("failed to construct the nominal server-providing Pod: the server patch cannot be applied: \(error.message)")
        }
        // A strict decode, as FMA's: a misspelt field in the patch is an error here, not a
        // provider the API server quietly drops that field from.
        if let problem = KubeFields.pod.strictDecodingError(.object(patched.json)) {
            throw ControllerError("failed to unmarshal patched pod: \(problem)")
        }
        let indexText = indices.map(String.init).joined(separator: ",")
        hash = Hashing.base64(Hashing.sha256(Hashing.canonicalBytes(.object(patched.json)) + Array(";gpus=\(indexText);node=\(node)".utf8)))

        var spec = patched.spec
        spec.nodeSelector[DualPods.hostnameLabel] = node
        var containers = spec.containers
        guard let position = containers.firstIndex(where: { $0.name == DualPods.inferenceServerContainer }) else {
            throw ControllerError("container \"\(DualPods.inferenceServerContainer)\" not found")
        }
        var container = containers[position]
        serverPort = try Self.serverPort(container)
        var env = container.env.filter { $0.name != "CUDA_VISIBLE_DEVICES" }
        if let existing = container.env.firstIndex(where: { $0.name == "CUDA_VISIBLE_DEVICES" }) {
            env.insert(EnvVar(name: "CUDA_VISIBLE_DEVICES", value: indexText), at: existing)
        } else {
            env.append(EnvVar(name: "CUDA_VISIBLE_DEVICES", value: indexText))
        }
        container.env = env
        var resources = container.resources.json
        for key in ["limits", "requests"] {
            var map = resources[key]?.object ?? JSONObject()
            map["nvidia.com/gpu"] = "0"
            resources[key] = .object(map)
        }
        container.json["resources"] = .object(resources)
        containers[position] = container
        spec.containers = containers
        patched.spec = spec

        var patchedMeta = patched.metadata
        patchedMeta.name = ""
        patchedMeta.generateName = "\(meta.name)-dual-"
        patchedMeta.finalizers = [DualPods.Finalizer.provider]
        patchedMeta.annotations = [
            DualPods.Annotation.nominal: hash,
            DualPods.Annotation.requester: Binding(uid: meta.uid, name: meta.name).annotationValue,
            DualPods.Annotation.accelerators: uuids.joined(separator: ","),
        ]
        var labels = patchedMeta.labels
        labels[DualPods.Label.dual] = meta.name
        labels[DualPods.Label.sleeping] = "false"
        patchedMeta.labels = labels
        patched.metadata = patchedMeta
        pod = patched
    }

    /// The port of the inference-server container's readinessProbe (`http` and `HTTP`: 80).
    static func serverPort(_ container: Container) throws(ControllerError) -> Int {
        guard let probe = container.json["readinessProbe"]?.object else {
            throw ControllerError("the inference server container has no readinessProbe")
        }
        guard let port = probe["httpGet"]?["port"] else { throw ControllerError("the readinessProbe is not an HTTPGet") }
        switch port {
        case .int(let number) where (1...65535).contains(number): return Int(number)
        case .string("http"), .string("HTTP"): return 80
        case .string(let text): throw ControllerError("unsupported readinessProbe port \"\(text)\"")
        default: throw ControllerError("unsupported readinessProbe port \"\(port.serializedString())\"")
        }
    }
}
