import FMAJSON
import FMAKubeModel
import Testing

@Suite("typed models")
struct ModelTests {
    static let podJSON = """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"req-1","namespace":"fma","resourceVersion":"7",
         "annotations":{"dual-pods.llm-d.ai/inference-server-config":"isc-a"},"someFutureField":{"x":1}},
         "spec":{"nodeName":"node-a","nodeSelector":{"gpu":"yes"},"priorityClassName":"high",
          "containers":[{"name":"inference-server","image":"fma:dev","command":["fma-gpu-inventory"],"args":["requester"],
            "env":[{"name":"A","value":"1"},{"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}}],
            "ports":[{"containerPort":8080,"name":"spi"}],
            "resources":{"limits":{"nvidia.com/gpu":"2","cpu":4},"requests":{"memory":"1Gi"}},
            "readinessProbe":{"httpGet":{"path":"/ready","port":8081},"periodSeconds":1},
            "securityContext":{"runAsUser":1000}}],
          "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{}}},
          "tolerations":[{"key":"k","operator":"Exists"}],"terminationGracePeriodSeconds":30},
         "status":{"phase":"Running","podIP":"127.0.1.2","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"t0"}],
          "containerStatuses":[{"name":"inference-server","ready":true,"restartCount":0,"state":{"running":{"startedAt":"t"}}}],
          "qosClass":"Burstable"}}
        """

    @Test func podFieldsRead() throws {
        let pod = Pod(json: try #require(JSONValue(parsing: Self.podJSON).object))
        #expect(pod.metadata.name == "req-1")
        #expect(pod.key == "fma/req-1")
        #expect(pod.spec.nodeName == "node-a")
        #expect(pod.spec.nodeSelector == ["gpu": "yes"])
        let container = try #require(pod.spec.container(named: "inference-server"))
        #expect(container.command == ["fma-gpu-inventory"])
        #expect(container.args == ["requester"])
        #expect(container.env.map(\.name) == ["A", "NODE"])
        #expect(container.env[1].valueFrom?["fieldRef"]?["fieldPath"] == "spec.nodeName")
        #expect(container.ports.first?.containerPort == 8080)
        #expect(container.resources.limits == ["nvidia.com/gpu": "2", "cpu": "4"])
        #expect(container.resources.requests["memory"] == "1Gi")
        #expect(container.readinessProbe?.httpGet?.path == "/ready")
        #expect(container.readinessProbe?.httpGet?.port == .int(8081))
        #expect(container.readinessProbe?.periodSeconds == 1)
        #expect(pod.spec.affinity?["nodeAffinity"] != nil)
        #expect(pod.spec.tolerations.count == 1)
        #expect(pod.spec.terminationGracePeriodSeconds == 30)
        #expect(pod.status.phase == "Running")
        #expect(pod.status.podIP == "127.0.1.2")
        #expect(pod.isReady)
        #expect(pod.status.containerStatuses.first?.isRunning == true)
    }

    @Test func readModifyWriteKeepsUnknownFields() throws {
        let original = try #require(JSONValue(parsing: Self.podJSON).object)
        var pod = Pod(json: original)
        pod.metadata.labels["dual-pods.llm-d.ai/dual"] = "launcher-1"
        pod.spec.containers[0].env.append(EnvVar(name: "B", value: "2"))
        pod.spec.containers[0].resources.limits["nvidia.com/gpu"] = "1"
        pod.status.setCondition(Condition(type: "Ready", status: true, lastTransitionTime: "t1"))
        // Fields no accessor knows survive, at every level.
        #expect(pod.json[path: ["metadata", "someFutureField", "x"]] == 1)
        #expect(pod.json[path: ["spec", "priorityClassName"]] == "high")
        #expect(pod.json[path: ["status", "qosClass"]] == "Burstable")
        let container = try #require(pod.json[path: ["spec", "containers"]]?.array?.first)
        #expect(container["securityContext"]?["runAsUser"] == 1000)
        #expect(container["env"]?.array?.count == 3)
        #expect(container["env"]?.array?[1]["valueFrom"]?["fieldRef"] != nil)
        // The unchanged Ready status keeps its transition time.
        #expect(pod.status.condition("Ready")?.lastTransitionTime == "t0")
        // The merge patch names only what changed.
        let patch = JSONValue.mergePatch(from: .object(original), to: .object(pod.json))
        #expect(patch["metadata"]?["labels"] == ["dual-pods.llm-d.ai/dual": "launcher-1"])
        #expect(patch["metadata"]?["annotations"] == nil)
        #expect(patch["status"] == nil)
        // Serialized and read back, the object is the same.
        let roundTrip = Pod(json: try #require(JSONValue(parsing: JSONValue.object(pod.json).serializedString()).object))
        #expect(roundTrip == pod)
    }

    @Test func newObjectsCarryKindAndOmitUnsetFields() {
        var cm = ConfigMap(name: "gpu-map", namespace: "fma")
        cm.data = ["node-a": "{}"]
        #expect(cm.json["apiVersion"] == "v1")
        #expect(cm.json["kind"] == "ConfigMap")
        #expect(cm.data == ["node-a": "{}"])
        var container = Container(name: "c", image: "i")
        container.command = []
        container.readinessProbe = nil
        #expect(container.json.keys == ["name", "image"])
    }

    @Test func nodeEventReplicaSet() throws {
        var node = Node(name: "node-a")
        node.metadata.labels = ["kubernetes.io/hostname": "node-a"]
        node.spec.taints = [Taint(key: "gpu", effect: "NoSchedule")]
        node.spec.unschedulable = true
        node.status.capacity = ["nvidia.com/gpu": "4"]
        node.status.allocatable = ["nvidia.com/gpu": "4", "cpu": "8"]
        node.status.setCondition(Condition(type: "Ready", status: true))
        #expect(node.isReady)
        #expect(node.spec.taints.first?.effect == "NoSchedule")
        #expect(node.json[path: ["spec", "unschedulable"]] == true)
        node.spec.unschedulable = false
        #expect(node.json[path: ["spec", "unschedulable"]] == nil)
        #expect(node.key == "node-a")

        var event = Event(name: "e", namespace: "fma")
        event.involvedObject = ObjectReference(node)
        event.sourceComponent = "fma-controller"
        event.reportingComponent = "fma-controller"
        event.count = 2
        #expect(event.involvedObject.kind == "Node")
        #expect(event.involvedObject.namespace == nil)
        #expect(event.json[path: ["source", "component"]] == "fma-controller")

        let rs = ReplicaSet(json: try #require(JSONValue(parsing: """
            {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"r","namespace":"d"},
             "spec":{"replicas":3,"selector":{"matchLabels":{"app":"x"}},
               "template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"i"}]}}},
             "status":{"replicas":3,"readyReplicas":2}}
            """).object))
        #expect(rs.spec.replicas == 3)
        #expect(try rs.spec.labelSelector().matches(["app": "x"]))
        #expect(rs.spec.template.metadata.labels == ["app": "x"])
        #expect(rs.spec.template.spec.containers.first?.name == "c")
        #expect(rs.status.readyReplicas == 2)
    }

    @Test func fmaCustomResources() throws {
        let isc = InferenceServerConfig(json: try #require(JSONValue(parsing: """
            {"apiVersion":"fma.llm-d.ai/v1alpha1","kind":"InferenceServerConfig","metadata":{"name":"a","namespace":"n","generation":2},
             "spec":{"modelServerConfig":{"port":8005,"options":"--model m","env_vars":{"VLLM_X":"1"},
               "labels":{"l":"v"},"annotations":{"a":"b"},"futureKnob":true},"launcherConfigName":"lc"},
             "status":{"observedGeneration":1,"errors":["e"]}}
            """).object))
        #expect(isc.spec.modelServerConfig.port == 8005)
        #expect(isc.spec.modelServerConfig.options == "--model m")
        #expect(isc.spec.modelServerConfig.envVars == ["VLLM_X": "1"])
        #expect(isc.spec.modelServerConfig.labels == ["l": "v"])
        #expect(isc.spec.modelServerConfig.annotations == ["a": "b"])
        #expect(isc.spec.launcherConfigName == "lc")
        #expect(isc.status.observedGeneration == 1)
        #expect(isc.status.errors == ["e"])
        var changed = isc
        changed.spec.modelServerConfig.envVars["VLLM_Y"] = "2"
        #expect(changed.json[path: ["spec", "modelServerConfig", "env_vars", "VLLM_Y"]] == "2")
        #expect(changed.json[path: ["spec", "modelServerConfig", "futureKnob"]] == true)

        var lc = LauncherConfig(name: "lc", namespace: "n")
        lc.spec.maxInstances = 4
        lc.spec.podTemplate.metadata.labels = ["app": "launcher"]
        var container = Container(name: "inference-server", image: "launcher")
        container.ports = [ContainerPort(containerPort: 8001)]
        lc.spec.podTemplate.spec.containers = [container]
        #expect(lc.json[path: ["spec", "maxInstances"]] == 4)
        #expect(lc.spec.podTemplate.spec.container(named: "inference-server")?.ports.first?.containerPort == 8001)
        #expect(lc.json["apiVersion"] == "fma.llm-d.ai/v1alpha1")

        let lpp = LauncherPopulationPolicy(json: try #require(JSONValue(parsing: """
            {"apiVersion":"fma.llm-d.ai/v1alpha1","kind":"LauncherPopulationPolicy","metadata":{"name":"p","namespace":"n"},
             "spec":{"enhancedNodeSelector":{"labelSelector":{"matchExpressions":[{"key":"gpu","operator":"Exists"}]},
               "allocatableResources":{"nvidia.com/gpu":{"min":"2"},"memory":{"min":"1Gi","max":"2Ti"}}},
              "countForLauncher":[{"launcherConfigName":"lc","launcherCount":2}]}}
            """).object))
        let selector = try lpp.spec.enhancedNodeSelector.parsedLabelSelector()
        #expect(selector.matches(["gpu": "a100"]))
        #expect(!selector.matches([:]))
        #expect(lpp.spec.enhancedNodeSelector.allocatableResources["nvidia.com/gpu"] == ResourceRange(json: ["min": "2"]))
        #expect(lpp.spec.enhancedNodeSelector.allocatableResources["memory"]?.max == "2Ti")
        #expect(lpp.spec.enhancedNodeSelector.allocatableResources["nvidia.com/gpu"]?.max == nil)
        #expect(lpp.spec.countForLauncher.map(\.launcherConfigName) == ["lc"])
        #expect(lpp.spec.countForLauncher.first?.launcherCount == 2)
    }
}
