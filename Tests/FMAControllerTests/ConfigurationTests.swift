@testable import FMAController
import FMAJSON
import FMAKubeModel
import Testing

/// Instance ids, launcher templates and routing metadata: pure functions of the objects.
@Suite struct ConfigurationTests {
    static func isc(_ name: String = "isc-a", port: Int = 8005, options: String = "--model m", labels: [String: String] = [:]) -> InferenceServerConfig {
        var isc = InferenceServerConfig(name: name, namespace: "default")
        var spec = InferenceServerConfigSpec()
        spec.launcherConfigName = "lc"
        var config = ModelServerConfig()
        config.port = port
        config.options = options
        config.labels = labels
        spec.modelServerConfig = config
        isc.spec = spec
        return isc
    }

    @Test func theInstanceIDDependsOnTheConfigAndTheGPUsButNotTheName() throws {
        let a = try DesiredInstance(isc: Self.isc(), gpuUUIDs: ["GPU-1"])
        #expect(a.id.count == 45 && a.id.hasPrefix("I") && a.id.hasSuffix("i"))
        #expect(RoutingMetadata.labelValueProblem(a.id) == nil)
        #expect(try DesiredInstance(isc: Self.isc("other"), gpuUUIDs: ["GPU-1"]).id == a.id)
        #expect(try DesiredInstance(isc: Self.isc(), gpuUUIDs: ["GPU-2"]).id != a.id)
        #expect(try DesiredInstance(isc: Self.isc(port: 8006), gpuUUIDs: ["GPU-1"]).id != a.id)
        #expect(try DesiredInstance(isc: Self.isc(labels: ["a": "b"]), gpuUUIDs: ["GPU-1"]).id != a.id)
        #expect(a.options == "--model m --port 8005")
        #expect(a.annotations == ["isc-name": "isc-a", "inference-port": "8005"])
    }

    @Test func aBadPortIsRefusedNamingTheConfig() {
        #expect(throws: ControllerError.self) { try DesiredInstance(isc: Self.isc(port: 0), gpuUUIDs: []) }
    }

    @Test func theCommittedInstanceReadsBackFromTheLauncherPod() throws {
        let desired = try DesiredInstance(isc: Self.isc(labels: ["llm-d.ai/role": "decode"]), gpuUUIDs: ["GPU-1", "GPU-2"])
        var pod = Pod(name: "launcher-1", namespace: "default")
        var meta = pod.metadata
        DualPodsController.writeControllerMetadata(&meta, desired)
        pod.metadata = meta
        let back = try DesiredInstance(boundLauncher: pod)
        #expect(back == desired)
        meta.annotations[DualPods.Annotation.serverPort] = nil
        pod.metadata = meta
        #expect(throws: ControllerError("bound launcher Pod \"launcher-1\" is missing annotation \"dual-pods.llm-d.ai/server-port\"")) {
            try DesiredInstance(boundLauncher: pod)
        }
    }

    static func launcherConfig(ports: [JSONValue], env: [JSONValue] = [], containerName: String = "inference-server") -> LauncherConfig {
        let json: JSONObject = [
            "apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "LauncherConfig",
            "metadata": ["name": "lc", "namespace": "default", "uid": "u-1"],
            "spec": ["maxInstances": 2, "podTemplate": ["spec": ["containers": [[
                "name": .string(containerName), "image": "launcher", "ports": .array(ports), "env": .array(env),
            ]]]]],
        ]
        return LauncherConfig(json: json)
    }

    @Test func theTemplateHashIgnoresListOrderAndTheNodeHashDiffersPerNode() throws {
        let ports: [JSONValue] = [["name": "fma-rpc", "containerPort": 8100], ["name": "launcher", "containerPort": 8001]]
        let a = try LauncherTemplate(Self.launcherConfig(ports: ports))
        let b = try LauncherTemplate(Self.launcherConfig(ports: ports.reversed()))
        #expect(a.templateHash == b.templateHash)
        #expect(a.rpcPort == 8100)
        let c = try LauncherTemplate(Self.launcherConfig(ports: ports, env: [["name": "X", "value": "1"]]))
        #expect(c.templateHash != a.templateHash)
        let (pod1, hash1) = a.specialized(toNode: "node-1")
        let (_, hash2) = a.specialized(toNode: "node-2")
        #expect(hash1 != hash2)
        #expect(pod1.spec.nodeSelector["kubernetes.io/hostname"] == "node-1")
        #expect(pod1.metadata.labels[DualPods.Label.launcherConfigName] == "lc")
        #expect(pod1.metadata.labels[DualPods.Label.sleeping] == "true")
        #expect(pod1.metadata.generateName == "launcher-lc-")
        let container = try #require(pod1.spec.container(named: "inference-server"))
        #expect(container.env.contains { $0.name == "VLLM_SERVER_DEV_MODE" && $0.value == "1" })
        // Probed where every fma launcher answers (its RPC port), not on the optional REST port.
        #expect(container.readinessProbe?.tcpSocketPort == .string("fma-rpc") && container.readinessProbe?.periodSeconds == 1)
        #expect(container.json["livenessProbe"]?["tcpSocket"]?["port"] == "fma-rpc")
    }

    @Test func aTemplateWithoutTheContainerOrTheRPCPortIsMalformed() {
        #expect(throws: ControllerError.self) { try LauncherTemplate(Self.launcherConfig(ports: [["name": "fma-rpc", "containerPort": 8100]], containerName: "x")) }
        let error = #expect(throws: ControllerError.self) { try LauncherTemplate(Self.launcherConfig(ports: [["name": "launcher", "containerPort": 8001]])) }
        #expect(error?.message.contains("no port named \"fma-rpc\"") == true)
    }

    @Test func routingMetadataIsCheckedAsFMAChecksIt() {
        #expect(RoutingMetadata.problems(labels: ["app": "x"], annotations: [:], podLabels: [:], podAnnotations: [:]).isEmpty)
        #expect(RoutingMetadata.problems(labels: ["dual-pods.llm-d.ai/x": "y"], annotations: [:], podLabels: [:], podAnnotations: [:])
                == ["ISC label key \"dual-pods.llm-d.ai/x\" uses a reserved prefix"])
        #expect(RoutingMetadata.problems(labels: ["app": "x"], annotations: [:], podLabels: ["app": "other"], podAnnotations: [:])
                == ["ISC label key \"app\" collides with existing pod label"])
        #expect(RoutingMetadata.problems(labels: ["app": "bad value"], annotations: [:], podLabels: [:], podAnnotations: [:]).count == 1)
        #expect(RoutingMetadata.problems(labels: [:], annotations: ["-bad": "x"], podLabels: [:], podAnnotations: [:]).count == 1)
    }

    @Test func theRequesterStatusIsFMAsJSON() {
        #expect(RequesterStatus.json([]) == #"{"Errors":null}"#)
        #expect(RequesterStatus.json(["a"]) == #"{"Errors":["a"]}"#)
        #expect(RequesterStatus.errors(#"{"Errors":["a","b"]}"#) == ["a", "b"])
    }

    @Test func theModelNameComesFromTheOptions() {
        #expect(InstanceHTTP.modelName(options: "--model m --port 1") == "m")
        #expect(InstanceHTTP.modelName(options: "--model m --served-model-name s") == "s")
        #expect(InstanceHTTP.modelName(options: "facebook/opt-125m --port 1") == "facebook/opt-125m")
        #expect(InstanceHTTP.modelName(options: " --port 1") == nil)
    }
}
