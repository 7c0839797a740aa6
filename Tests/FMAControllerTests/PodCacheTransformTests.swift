@testable import FMAController
import FMAJSON
import FMAKubeModel
import Testing

@Suite("the controller's Pod cache")
struct PodCacheTransformTests {
    static let pod = """
        {"apiVersion":"v1","kind":"Pod",
         "metadata":{"name":"p","namespace":"ns","resourceVersion":"7","uid":"u1",
                     "labels":{"a":"b"},"annotations":{"dual-pods.llm-d.ai/admin-port":"8082"},
                     "finalizers":["f"],"deletionTimestamp":"2026-12-06T00:00:00Z",
                     "managedFields":[{"manager":"kubectl","operation":"Update","fieldsV1":{"f:metadata":{}}}]},
         "spec":{"nodeName":"n1","nodeSelector":{"kubernetes.io/hostname":"n1"},"restartPolicy":"Always",
                 "tolerations":[{"key":"k","operator":"Exists"}],"volumes":[{"name":"v","emptyDir":{}}],
                 "containers":[{"name":"inference-server","image":"i","command":["serve"],"env":[{"name":"E","value":"1"}],
                                "ports":[{"name":"fma-rpc","containerPort":8000}],"resources":{"limits":{"nvidia.com/gpu":"1"}}}]},
         "status":{"phase":"Running","podIP":"127.0.1.2","hostIP":"127.0.0.1","qosClass":"BestEffort",
                   "conditions":[{"type":"PodScheduled","status":"True"},
                                 {"type":"Ready","status":"True","lastTransitionTime":"2026-12-06T00:00:00Z"}],
                   "containerStatuses":[{"name":"inference-server","ready":true,"started":true,"restartCount":2,
                                         "image":"i","imageID":"x","containerID":"c",
                                         "state":{"running":{"startedAt":"2026-12-06T00:00:00Z"}}}]}}
        """

    @Test("cached Pods keep what the controller reads: metadata but managedFields, node, ports, phase, IP, readiness, container states")
    func keepsWhatIsRead() throws {
        let cached = CachedPod.projected(Pod(json: try JSONValue(parsing: Self.pod).object!))
        #expect(cached.json["metadata"]?["managedFields"] == nil)
        #expect(cached.metadata.labels == ["a": "b"] && cached.metadata.resourceVersion == "7" && cached.metadata.uid == "u1")
        #expect(cached.metadata.finalizers == ["f"] && cached.isTerminating)
        #expect(cached.metadata.annotation("dual-pods.llm-d.ai/admin-port") == "8082")
        #expect(cached.spec.nodeName == "n1" && cached.spec.nodeSelector == ["kubernetes.io/hostname": "n1"])
        #expect(Endpoints.rpcPort(of: cached) == 8000)
        #expect(cached.status.phase == "Running" && cached.status.podIP == "127.0.1.2" && cached.isReady)
        let container = try #require(cached.status.containerStatuses.first)
        #expect(container.name == "inference-server" && container.ready && container.started == true)
        #expect(container.restartCount == 2 && container.isRunning)
        #expect(DualPodsController.serverContainerRunning(cached))
    }

    @Test("cached Pods leave out what the controller never reads")
    func leavesOutTheRest() throws {
        let cached = CachedPod.projected(Pod(json: try JSONValue(parsing: Self.pod).object!))
        #expect(cached.json["spec"]?.object?.keys == ["nodeName", "nodeSelector", "containers"])
        #expect(cached.json[path: ["spec", "containers"]] == [["name": "inference-server", "ports": [["name": "fma-rpc", "containerPort": 8000]]]])
        #expect(cached.json["status"]?.object?.keys == ["phase", "podIP", "conditions", "containerStatuses"])
        #expect(cached.json[path: ["status", "conditions"]] == [["type": "Ready", "status": "True"]])
        #expect(cached.json[path: ["status", "containerStatuses"]]?.array?.first?.object?.keys == ["name", "ready", "started", "restartCount", "state"])
        // Projecting again changes nothing.
        #expect(CachedPod.projected(cached) == cached)
    }

    @Test("direct-mode Pods keep their whole spec; a provider keeps the time of the controller's last write, a requester no managedFields")
    func directModePodsKeepTheirSpec() throws {
        var provider = Pod(json: try JSONValue(parsing: Self.pod).object!)
        provider.metadata.annotations[DualPods.Annotation.nominal] = "h"
        provider.metadata.json["managedFields"] = [
            ["manager": "kubectl", "operation": "Update", "time": "2026-12-06T00:00:01Z"],
            ["manager": "dual-pods-controller", "operation": "Update", "time": "2026-12-06T00:00:02Z", "fieldsV1": ["f:metadata": [:]]],
        ]
        let cached = CachedPod.projected(provider)
        #expect(cached.json["spec"] == provider.json["spec"])
        #expect(cached.json[path: ["metadata", "managedFields"]] == [["manager": "dual-pods-controller", "time": "2026-12-06T00:00:02Z"]])
        #expect(DirectProvider.gpuKeys(cached).isEmpty, "no CUDA_VISIBLE_DEVICES, no GPU keys")
        #expect(CachedPod.projected(cached) == cached)

        var requester = Pod(json: try JSONValue(parsing: Self.pod).object!)
        requester.metadata.annotations[DualPods.Annotation.serverPatch] = "{}"
        let cachedRequester = CachedPod.projected(requester)
        #expect(cachedRequester.json["spec"] == requester.json["spec"])
        #expect(cachedRequester.json[path: ["metadata", "managedFields"]] == nil)
        // A launcher-mode requester (its ISC annotation wins) is projected as any Pod.
        requester.metadata.annotations[DualPods.Annotation.inferenceServerConfig] = "isc"
        #expect(CachedPod.projected(requester).json[path: ["spec", "containers"]] == [["name": "inference-server", "ports": [["name": "fma-rpc", "containerPort": 8000]]]])
    }
}
