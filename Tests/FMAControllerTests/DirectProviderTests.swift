@testable import FMAController
import FMAJSON
import FMAKube
import FMAKubeModel
import Testing

/// Direct mode's pure parts: the gpu-map ConfigMap and the nominal provider made from a
/// requester with FMA's own e2e server patch.
@Suite struct DirectProviderTests {
    @Test func theGPUMapTranslatesUUIDsOnTheirNodeAndWordsProblemsAsFMA() throws {
        let map = GPUMap(data: ["node-1": #"{"GPU-a": 0, "GPU-b": 1}"#, "node-2": #"{"GPU-c": 0}"#, "node-3": "not json"])
        #expect(try GPUMap.indices(of: ["GPU-b", "GPU-a"], on: "node-1", in: map) == [1, 0])
        #expect(map.skipped.keys.sorted() == ["node-3"])
        do {
            _ = try GPUMap.indices(of: ["GPU-a", "GPU-c", "GPU-z"], on: "node-1", in: map)
            Issue.record("accepted")
        } catch {
            #expect(error.message == "UUID GPU-c is on Node node-2, not node-1\nUUID GPU-z is not known")
        }
        #expect(throws: ControllerError.self) { try GPUMap.indices(of: ["GPU-a"], on: "node-1", in: nil) }
        let moved = GPUMap(data: ["node-1": #"{"GPU-a": 0, "GPU-b": 1}"#, "node-2": #"{"GPU-c": 1, "GPU-d": 0}"#])
        #expect(moved.additions(since: map) == 2)
        #expect(moved.additions(since: nil) == 4)
    }

    private func requester(patch: String?, env: [EnvVar] = [], labels: [String: String] = ["app": "dp-example", "instance": "i1"]) -> Pod {
        var pod = Pod(name: "my-request-x", namespace: "ns")
        pod.metadata.uid = "uid-1"
        pod.metadata.labels = labels
        if let patch { pod.metadata.annotations = [DualPods.Annotation.serverPatch: patch, DualPods.Annotation.adminPort: "8081"] }
        var spec = PodSpec()
        spec.nodeName = "node-1"
        var container = Container(name: "inference-server", image: "requester:1")
        container.env = env
        container.json["resources"] = ["limits": ["nvidia.com/gpu": "1"]]
        container.json["volumeMounts"] = [["name": "kube-api-access-abc12", "mountPath": "/var/run/secrets"]]
        spec.containers = [container]
        spec.json["volumes"] = [["name": "kube-api-access-abc12", "projected": [:]]]
        pod.spec = spec
        return pod
    }

    /// FMA's e2e ReplicaSet's patch (test/e2e/mkrs.sh), with the per-node claim of its caching example.
    private let patch = """
        metadata:
          labels: {
            "model-reg": "ibm-granite",
            "model-repo": "granite-3.3-2b-instruct",
            "app": null}
        spec:
          containers:
          - name: inference-server
            image: test-server:1
            command:
            - /ko-app/test-server
            - --startup-delay=22
            resources:
              limits:
                cpu: "200m"
                memory: 9Gi
            readinessProbe:
              httpGet:
                path: /health
                port: 8000
          volumes:
          - name: cache
            persistentVolumeClaim: {claimName: "vcp-local-{{ .NodeName }}"}
        """

    @Test func theNominalProviderIsFMAs() throws {
        let provider = try NominalProvider(requester: requester(patch: patch), indices: [3], uuids: ["GPU-d"])
        let pod = provider.pod
        #expect(provider.serverPort == 8000)
        #expect(pod.metadata.generateName == "my-request-x-dual-")
        #expect(pod.metadata.labels == ["instance": "i1", "model-reg": "ibm-granite", "model-repo": "granite-3.3-2b-instruct",
                                        DualPods.Label.dual: "my-request-x", DualPods.Label.sleeping: "false"])
        #expect(pod.metadata.annotations[DualPods.Annotation.requester] == "uid-1 my-request-x")
        #expect(pod.metadata.annotations[DualPods.Annotation.accelerators] == "GPU-d")
        #expect(pod.metadata.annotations[DualPods.Annotation.nominal] == provider.hash)
        #expect(pod.metadata.annotations[DualPods.Annotation.serverPatch] == nil)
        #expect(pod.metadata.finalizers == [DualPods.Finalizer.provider])
        #expect(pod.spec.nodeSelector[DualPods.hostnameLabel] == "node-1")
        let container = try #require(pod.spec.containers.first)
        #expect(container.image == "test-server:1")
        #expect(container.env.first { $0.name == "CUDA_VISIBLE_DEVICES" }?.value == "3")
        #expect(container.json[path: ["resources", "limits", "nvidia.com/gpu"]] == "0")
        #expect(container.json[path: ["resources", "requests", "nvidia.com/gpu"]] == "0")
        #expect(container.json[path: ["resources", "limits", "cpu"]] == "200m")
        // The token volume and its mount are gone; the patch's volume is there, per node.
        #expect(pod.spec.json["volumes"] == [["name": "cache", "persistentVolumeClaim": ["claimName": "vcp-local-node-1"]]])
        #expect(container.json["volumeMounts"] == nil)
    }

    @Test func theNominalHashFollowsContentGPUsAndNode() throws {
        let hash = try NominalProvider(requester: requester(patch: patch), indices: [3], uuids: ["GPU-d"]).hash
        // Another requester of the same template (its own name and UID): the same hash.
        var twin = requester(patch: patch)
        twin.metadata.name = "my-request-y"
        twin.metadata.uid = "uid-2"
        #expect(try NominalProvider(requester: twin, indices: [3], uuids: ["GPU-d"]).hash == hash)
        #expect(try NominalProvider(requester: requester(patch: patch), indices: [2], uuids: ["GPU-c"]).hash != hash)
        #expect(try NominalProvider(requester: requester(patch: patch, env: [EnvVar(name: "X", value: "1")]), indices: [3], uuids: ["GPU-d"]).hash != hash)
        var elsewhere = requester(patch: patch)
        elsewhere.spec.nodeName = "node-2"
        #expect(try NominalProvider(requester: elsewhere, indices: [3], uuids: ["GPU-d"]).hash != hash)
    }

    @Test func problemsAreWordedForTheRequestersStatus() throws {
        func message(_ patch: String?) -> String? {
            do {
                _ = try NominalProvider(requester: requester(patch: patch), indices: [0], uuids: ["GPU-a"])
                return nil
            } catch { return error.message }
        }
        #expect(message(nil) == "the dual-pods.llm-d.ai/server-patch annotation is missing")
        #expect(message("spec: {nodeName: {{ .Node }}}")?.hasPrefix("failed to construct the nominal server-providing Pod: server patch template, line 1: {{ .Node }}: no field \"Node\"") == true)
        #expect(message("spec:\n  containers:\n  - name: inference-server\n    image: x") == "the inference server container has no readinessProbe")
        #expect(message("spec:\n  containers:\n  - name: inference-server\n    readinessProbe: {exec: {command: [true]}}") == "the readinessProbe is not an HTTPGet")
        #expect(message("spec:\n  containers:\n  - name: inference-server\n    readinessProbe: {httpGet: {port: metrics}}") == "unsupported readinessProbe port \"metrics\"")
        // Decoded strictly, as FMA's: a misspelt field names itself instead of being dropped.
        #expect(message("spec:\n  containers:\n  - name: inference-server\n    envv: [{name: A, value: '1'}]\n    readinessProbe: {httpGet: {port: 8000}}")
            == #"failed to unmarshal patched pod: strict decoding error: unknown field "spec.containers[0].envv""#)
        #expect(message("metadata:\n  labelz: {a: b}\nspec:\n  containers:\n  - name: inference-server\n    readinessProbe: {httpGet: {port: 8000}}")
            == #"failed to unmarshal patched pod: strict decoding error: unknown field "metadata.labelz""#)
        #expect(try NominalProvider(requester: requester(patch: "spec:\n  containers:\n  - name: inference-server\n    readinessProbe: {httpGet: {port: http}}"),
                                    indices: [0], uuids: ["GPU-a"]).serverPort == 80)
    }
}
