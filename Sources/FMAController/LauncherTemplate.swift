import FMAJSON
public import FMAKubeModel

/// A launcher Pod made from a LauncherConfig (FMA's two steps, shared by the dual-pods
/// controller and the populator so Pods made by either are the same): a node-independent
/// template with its hash, then the template specialized to one node with the node-specific
/// hash that finds "launchers of this content on this node".
public struct LauncherTemplate: Sendable, Hashable {
    /// The Pod to create, before specialization.
    public var pod: Pod
    /// base64(SHA-256(the Pod's JSON before the launcher container is adjusted)).
    public var templateHash: String
    /// The port of fma's RPC on the launcher container (its port named `fma-rpc`).
    public var rpcPort: Int
    public var launcherConfigName: String

    /// Builds the template. Throws when the config is malformed (no `inference-server` container,
    /// no port named `fma-rpc`), with a message naming the LauncherConfig and the fix.
    public init(_ config: LauncherConfig) throws(ControllerError) {
        let name = config.metadata.name
        let template = config.spec.podTemplate
        var pod = Pod(name: "", namespace: config.metadata.namespace)
        var meta = pod.metadata
        meta.labels = template.metadata.labels
        meta.annotations = template.metadata.annotations
        meta.generateName = "launcher-\(name)-"
        var owner = OwnerReference(apiVersion: config.apiVersion ?? LauncherConfig.resourceKind.apiVersion, kind: "LauncherConfig",
                                   name: name, uid: config.metadata.uid, controller: false)
        owner.json["blockOwnerDeletion"] = .bool(false)
        meta.ownerReferences = [owner]
        var labels = meta.labels
        labels[DualPods.Label.component] = DualPods.Label.componentLauncher
        labels[DualPods.Label.launcherConfigName] = name
        labels[DualPods.Label.sleeping] = "true"
        meta.labels = labels
        pod.metadata = meta
        pod.spec = Self.canonical(template.spec)

        let hash = Hashing.base64(Hashing.sha256(Hashing.canonicalBytes(.object(pod.json))))
        meta.annotations[DualPods.Annotation.launcherTemplateHash] = hash
        pod.metadata = meta

        var spec = pod.spec
        guard let index = spec.containers.firstIndex(where: { $0.name == DualPods.inferenceServerContainer }) else {
            throw ControllerError("LauncherConfig \"\(name)\": container \"\(DualPods.inferenceServerContainer)\" not found in spec.podTemplate.spec.containers; the launcher must run in a container of that name")
        }
        var containers = spec.containers
        var container = containers[index]
        guard let rpc = container.ports.first(where: { $0.name == DualPods.rpcPortName }), (1...65535).contains(rpc.containerPort) else {
            throw ControllerError("LauncherConfig \"\(name)\": container \"\(DualPods.inferenceServerContainer)\" has no port named \"\(DualPods.rpcPortName)\"; add the port fma-launcher serves its RPC on (--listen tcp://$(POD_IP):PORT) under that name")
        }
        Self.adjustLauncherContainer(&container)
        containers[index] = container
        spec.containers = containers
        if var overhead = spec.json["overhead"]?.object {
            overhead["nvidia.com/gpu"] = nil
            spec.json["overhead"] = overhead.isEmpty ? nil : .object(overhead)
        }
        pod.spec = spec
        self.pod = pod
        templateHash = hash
        rpcPort = rpc.containerPort
        launcherConfigName = name
    }

    /// The launcher Pod for `node`, with its node-specific hash.
    public func specialized(toNode node: String) -> (pod: Pod, configHash: String) {
        var pod = self.pod
        let hash = Self.configHash(templateHash: templateHash, node: node)
        var meta = pod.metadata
        meta.labels[DualPods.Label.nodeName] = node
        meta.annotations[DualPods.Annotation.launcherConfigHash] = hash
        pod.metadata = meta
        var spec = pod.spec
        spec.nodeSelector[DualPods.hostnameLabel] = node
        pod.spec = spec
        return (pod, hash)
    }

    /// base64(SHA-256(templateHash ‖ ";node=" ‖ node)).
    public static func configHash(templateHash: String, node: String) -> String {
        Hashing.base64(Hashing.sha256(Array("\(templateHash);node=\(node)".utf8)))
    }

    /// The spec de-individualized (`deindividualized`) and its unordered lists sorted, so the
    /// hash does not depend on the order a user wrote.
    static func canonical(_ spec: PodSpec) -> PodSpec {
        var json = deindividualized(spec).json
        if var volumes = json["volumes"]?.array {
            volumes.sort { ($0["name"]?.string ?? "") < ($1["name"]?.string ?? "") }
            json["volumes"] = volumes.isEmpty ? nil : .array(volumes)
        }
        for key in ["containers", "initContainers"] {
            guard let items = json[key]?.array else { continue }
            json[key] = .array(items.map { item in
                guard var container = item.object else { return item }
                if let mounts = container["volumeMounts"]?.array { container["volumeMounts"] = mounts.isEmpty ? nil : .array(sorted(mounts, by: ["name", "mountPath"])) }
                if let ports = container["ports"]?.array { container["ports"] = .array(sorted(ports, by: ["name", "containerPort", "protocol"])) }
                if let envFrom = container["envFrom"]?.array { container["envFrom"] = .array(sorted(envFrom, by: ["prefix"])) }
                return .object(container)
            })
        }
        if let tolerations = json["tolerations"]?.array { json["tolerations"] = .array(sorted(tolerations, by: ["key", "operator", "value", "effect"])) }
        if let secrets = json["imagePullSecrets"]?.array { json["imagePullSecrets"] = .array(sorted(secrets, by: ["name"])) }
        return PodSpec(json: json)
    }

    /// FMA's de-individualization of a Pod's spec: no ephemeral containers, and no
    /// service-account token volume (the first named `kube-api-access-…`) nor its mounts.
    static func deindividualized(_ spec: PodSpec) -> PodSpec {
        var json = spec.json
        json["ephemeralContainers"] = nil
        guard var volumes = json["volumes"]?.array,
              let index = volumes.firstIndex(where: { ($0["name"]?.string ?? "").wholeMatch(of: /kube-api-access-[a-z0-9]+/) != nil }) else {
            return PodSpec(json: json)
        }
        let dropped = volumes[index]["name"]?.string
        volumes.remove(at: index)
        json["volumes"] = volumes.isEmpty ? nil : .array(volumes)
        for key in ["containers", "initContainers"] {
            guard let items = json[key]?.array else { continue }
            json[key] = .array(items.map { item in
                guard var container = item.object, var mounts = container["volumeMounts"]?.array else { return item }
                mounts.removeAll { $0["name"]?.string == dropped }
                container["volumeMounts"] = mounts.isEmpty ? nil : .array(mounts)
                return .object(container)
            })
        }
        return PodSpec(json: json)
    }

    /// A stable sort by the members `keys`, compared as text.
    private static func sorted(_ items: [JSONValue], by keys: [String]) -> [JSONValue] {
        func sortKey(_ item: JSONValue) -> [String] {
            keys.map { key in
                switch item[key] {
                case .string(let s): s
                case .int(let i): String(repeating: "0", count: max(0, 20 - String(i).count)) + String(i)
                default: ""
                }
            }
        }
        return items.enumerated().sorted { a, b in
            let (ka, kb) = (sortKey(a.element), sortKey(b.element))
            return ka != kb ? ka.lexicographicallyPrecedes(kb) : a.offset < b.offset
        }.map(\.element)
    }

    /// FMA's launcher-container adjustments: GPU environment forced, probes (on the RPC port),
    /// no GPU accounted (the requester holds them).
    static func adjustLauncherContainer(_ container: inout Container) {
        var env = container.env
        for (name, value) in [("NVIDIA_VISIBLE_DEVICES", "all"), ("NVIDIA_DRIVER_CAPABILITIES", "compute,utility"), ("VLLM_SERVER_DEV_MODE", "1")] {
            if let index = env.firstIndex(where: { $0.name == name }) {
                env[index] = EnvVar(name: name, value: value)
            } else {
                env.append(EnvVar(name: name, value: value))
            }
        }
        container.env = env
        // Probes on the RPC port every fma launcher serves (FMA's probe its REST port 8001,
        // which fma's launcher serves only when asked to). Readiness every second from the
        // start (FMA: after 2 s, every 5 s), so that a cold start, whose requester turns Ready
        // only once its new launcher Pod is, does not wait for the kubelet's next look; fifteen
        // failures in a row turn it unready, FMA's 15 s.
        let rpcPort: JSONValue = ["port": .string(DualPods.rpcPortName)]
        container.json["livenessProbe"] = ["tcpSocket": rpcPort, "initialDelaySeconds": 10, "periodSeconds": 20, "timeoutSeconds": 1,
                                           "successThreshold": 1, "failureThreshold": 3]
        container.json["readinessProbe"] = ["tcpSocket": rpcPort, "initialDelaySeconds": 0, "periodSeconds": 1, "timeoutSeconds": 2,
                                            "successThreshold": 1, "failureThreshold": 15]
        var resources = container.resources.json
        for key in ["limits", "requests"] {
            if var map = resources[key]?.object {
                map["nvidia.com/gpu"] = .int(0)
                resources[key] = .object(map)
            }
        }
        container.json["resources"] = resources.isEmpty ? nil : .object(resources)
    }
}
