import FMAAPI
import FMAController
import FMAHTTPClient
import FMAJSON
import FMAKube
import FMAKubeModel
import FMATestSupport
import Foundation
import ServiceLifecycle
import Testing

/// Direct mode against a real fma-devcluster: requesters (fma-gpu-inventory requester) whose
/// server patch turns their own spec into a provider running the fake vLLM as a real process.
/// What is asserted is what a user sees: the Pods, their labels, annotations and readiness,
/// Events, and the provider's own server answering /is_sleeping.
@Suite(.serialized) struct DirectModeEndToEndTests {
    @Test func gpuMapSleepWakeReuseSleeperLimitProviderDeathAndNodeDeletion() async throws {
        try await ControllerCluster.with(nodes: 2, gpus: 1, configure: { $0.sleeperLimit = 2 }) { cluster in
            let node1 = "node-1", node2 = "node-2"
            // No gpu-map: the requester says so and gets no provider.
            try await cluster.createDirectRequester("d1", variant: "a", node: node1)
            try await cluster.waitForPod("d1", "the gpu-map error") { cluster.errors($0).contains("GPU map ConfigMap gpu-map is not available") }
            // A gpu-map without its node: named GPU unknown.
            try await cluster.applyGPUMap(nodes: [node2])
            let uuid1 = MockGPUs.uuid(node: node1, index: 0)
            try await cluster.waitForPod("d1", "the unknown-UUID error") { cluster.errors($0) == ["UUID \(uuid1) is not known"] }
            #expect(try await cluster.directProviders().isEmpty)

            // Its node in the map: a provider, pinned, on GPU 0, holding no GPU itself.
            try await cluster.applyGPUMap(nodes: [node1, node2])
            let d1 = try await cluster.waitReady("d1")
            let pa = try #require(d1.metadata.labels[DualPods.Label.dual])
            let provider = try #require(try await cluster.pod(pa))
            #expect(provider.isReady, "the requester turned Ready before its provider")
            #expect(provider.spec.nodeSelector["kubernetes.io/hostname"] == node1)
            #expect(provider.spec.nodeName == node1)
            let container = try #require(provider.spec.containers.first { $0.name == "inference-server" })
            #expect(container.env.first { $0.name == "CUDA_VISIBLE_DEVICES" }?.value == "0")
            #expect(container.resources.json["limits"]?["nvidia.com/gpu"] == "0")
            #expect(container.resources.json["requests"]?["nvidia.com/gpu"] == "0")
            #expect(provider.metadata.annotations[DualPods.Annotation.requester] == "\(d1.metadata.uid) d1")
            #expect(provider.metadata.annotations[DualPods.Annotation.accelerators] == uuid1)
            #expect(provider.metadata.annotations[DualPods.Annotation.nominal]?.isEmpty == false)
            #expect(provider.metadata.labels["app"] == nil, "the patch removes the set's label")
            #expect(provider.metadata.labels[DualPods.Label.sleeping] == "false")
            #expect(provider.metadata.finalizers.contains(DualPods.Finalizer.provider))
            #expect(d1.metadata.annotations[DualPods.Annotation.status] == #"{"Errors":null}"#)
            #expect(d1.metadata.annotations[DualPods.Annotation.actuationPath] == "cold")
            #expect(d1.metadata.finalizers.contains(DualPods.Finalizer.requester))
            #expect(try await cluster.isSleeping(provider) == false)

            // Requester deleted: the provider stays, asleep and unbound.
            try await cluster.deleteAndWaitAsleep("d1", provider: pa)

            // The same spec on the same GPU: the same provider, woken; no new Pod.
            try await cluster.createDirectRequester("d2", variant: "a", node: node1)
            let d2 = try await cluster.waitReady("d2")
            #expect(d2.metadata.labels[DualPods.Label.dual] == pa)
            #expect(d2.metadata.annotations[DualPods.Annotation.actuationPath] == "hot")
            #expect(try await cluster.directProviders().map(\.metadata.name) == [pa])
            #expect(try await cluster.isSleeping(try #require(try await cluster.pod(pa))) == false)
            let listed = try await runCommand(binDirectory + "/fmactl", ["dual", "list", "-o", "json"], directory: cluster.directory,
                                              environment: ["KUBECONFIG": cluster.kubeconfigPath])
            let pair = try #require(try JSONValue(parsing: listed.stdout)["pairs"]?.array?.first { $0["requester"]?.string == "d2" })
            #expect(pair["launcher"]?.string == pa && pair["path"]?.string == "hot" && pair["state"]?.string == "ready")
            try await cluster.deleteAndWaitAsleep("d2", provider: pa)

            // A changed spec: a new provider. Two sleepers on GPU 0 are within --sleeper-limit 2,
            // so a third spec evicts nothing either.
            let pb = try await cluster.serveAndRelease("d3", variant: "b", node: node1)
            let pc = try await cluster.serveAndRelease("d4", variant: "c", node: node1)
            #expect(Set([pa, pb, pc]).count == 3)
            #expect(Set(try await cluster.directProviders().map(\.metadata.name)) == [pa, pb, pc])
            // pa used again: pb is now the least recently used, though pa is the oldest.
            #expect(try await cluster.serveAndRelease("d5", variant: "a", node: node1) == pa)

            // Three sleepers, limit 2: the least recently used goes before the new provider comes.
            try await cluster.createDirectRequesterSet("rs-e", variant: "e", node: node1)
            let e1 = try await cluster.waitForPod(nil, "rs-e's requester Ready") { $0?.isReady == true }
            let pe = try #require(e1?.metadata.labels[DualPods.Label.dual])
            #expect(try await cluster.pod(pb) == nil, "the least recently used sleeper was evicted")
            #expect(Set(try await cluster.directProviders().map(\.metadata.name)) == [pa, pc, pe])
            #expect(try await cluster.events(about: e1!.metadata.name).contains { $0.reason == DualPods.Reason.sleeperEvicted && ($0.message ?? "").contains(pb) })

            // The provider deleted: its requester is deleted too, and the set's new one served.
            try await cluster.client.delete(Pod.self, name: pe, namespace: cluster.namespace)
            try await cluster.waitGone(e1!.metadata.name)
            let e2 = try await cluster.waitForPod(nil, "rs-e's new requester Ready") { $0?.isReady == true && $0?.metadata.uid != e1!.metadata.uid }
            #expect(e2?.metadata.labels[DualPods.Label.dual] != pe)

            // Node deleted: its requester and provider both go.
            try await cluster.createDirectRequester("n2", variant: "a", node: node2)
            let n2 = try await cluster.waitReady("n2")
            let pn = try #require(n2.metadata.labels[DualPods.Label.dual])
            try await cluster.client.delete(Node.self, name: node2)
            try await cluster.waitGone("n2")
            try await cluster.waitGone(pn)
        }
    }

    @Test func theMemoryBudgetEvictsSleepersWhileTheGPUHoldsTooMuch() async throws {
        try await ControllerCluster.with(nodes: 1, gpus: 1, configure: { $0.sleeperLimit = 5; $0.sleeperMemoryBudget = 1 << 30 }) { cluster in
            let node = "node-1"
            let memoryFile = cluster.directory + "/gpu-memory.json"
            let uuid = MockGPUs.uuid(node: node, index: 0)
            func setUsed(_ mib: Int) throws {
                try #"{"\#(uuid)": {"index": 0, "memoryUsedMiB": \#(mib)}}"#.write(toFile: memoryFile, atomically: true, encoding: .utf8)
            }
            try setUsed(512)
            try await cluster.applyGPUMap(nodes: [node])
            // Within the budget: sleepers stay (the count limit is 5).
            let pa = try await cluster.serveAndRelease("m1", variant: "a", node: node, memoryFile: memoryFile)
            let pb = try await cluster.serveAndRelease("m2", variant: "b", node: node, memoryFile: memoryFile)
            #expect(Set(try await cluster.directProviders().map(\.metadata.name)) == [pa, pb])

            // Over it: sleepers go, least recently used first, until none is left to go.
            try setUsed(10_000)
            try await cluster.createDirectRequester("m3", variant: "c", node: node, memoryFile: memoryFile)
            let m3 = try await cluster.waitReady("m3")
            let pc = try #require(m3.metadata.labels[DualPods.Label.dual])
            #expect(try await cluster.directProviders().map(\.metadata.name) == [pc])
            let evictions = try await cluster.events(about: "m3").filter { $0.reason == DualPods.Reason.sleeperEvicted }
            #expect(evictions.count == 2)
            #expect(evictions.allSatisfy { ($0.message ?? "").contains("--sleeper-memory-budget") })
        }
    }
}

extension DirectModeEndToEndTests {
    @Test func aRestartedControllerRebuildsWhatItKnewFromThePodsAndTheServers() async throws {
        try await ControllerCluster.with(nodes: 1, gpus: 1, startController: false) { cluster in
            try await cluster.applyGPUMap(nodes: ["node-1"])
            let provider = try await withRunningServices([ControllerService(cluster.makeController())]) { _ in
                try await cluster.createDirectRequester("d1", variant: "a", node: "node-1")
                return try #require(try await cluster.waitReady("d1").metadata.labels[DualPods.Label.dual])
            }
            // A new controller: it asks the bound provider's server whether it sleeps (nothing
            // else says so), sleeps it when its requester goes, and wakes it for the next one.
            #expect(!cluster.metricsText().contains(#"purpose="query_sleeping""#))
            try await withRunningServices([ControllerService(cluster.makeController())]) { _ in
                try await waitUntil(timeout: .seconds(60), "the new controller to ask the provider's server", every: .milliseconds(50)) {
                    cluster.metricsText().contains(#"purpose="query_sleeping""#)
                }
                try await cluster.deleteAndWaitAsleep("d1", provider: provider)
                try await cluster.createDirectRequester("d2", variant: "a", node: "node-1")
                let d2 = try await cluster.waitReady("d2")
                #expect(d2.metadata.labels[DualPods.Label.dual] == provider)
                #expect(d2.metadata.annotations[DualPods.Annotation.actuationPath] == "hot")
                #expect(try await cluster.isSleeping(try #require(try await cluster.pod(provider))) == false)
            }
        }
    }
}

extension DirectModeEndToEndTests {
    @Test func theRequesterIsReadyWhileItsProviderIs() async throws {
        try await ControllerCluster.with(nodes: 1, gpus: 1) { cluster in
            try await cluster.applyGPUMap(nodes: ["node-1"])
            try await cluster.createDirectRequester("d1", variant: "a", node: "node-1")
            let d1 = try await cluster.waitReady("d1")
            let name = try #require(d1.metadata.labels[DualPods.Label.dual])
            let provider = try #require(try await cluster.pod(name))
            // The provider's server dies; the kubelet restarts it after a backoff, during which
            // the provider is not Ready, and neither is the requester.
            let http = HTTPClient(configuration: HTTPClient.Configuration())
            let report = try await http.send(HTTPClientRequest(.get, "http://\(provider.status.podIP ?? ""):8000/fma/process", timeout: .seconds(10)))
            await http.shutdown()
            let pid = try #require((try? JSONValue(parsing: report.body))?["pid"]?.int)
            kill(pid_t(pid), SIGKILL)
            // The controller tells the stub "unready", then "ready" once the restarted server is
            // Ready again (within about a probe period: the requester's own Ready condition may
            // never show the gap, so the stub itself is asked).
            try await waitUntil(timeout: .seconds(60), "the controller to relay unready", every: .milliseconds(50)) {
                cluster.metricsText().contains(#"purpose="relay_unready""#)
            }
            let probes = HTTPClient(configuration: HTTPClient.Configuration())
            try await waitUntil(timeout: .seconds(60), "the stub to be told ready again", every: .milliseconds(100)) {
                let restarted = try await cluster.pod(name).map { $0.isReady && $0.status.containerStatuses.first?.restartCount == 1 } ?? false
                guard restarted else { return false }
                let ready = try? await probes.send(HTTPClientRequest(.get, "http://\(d1.status.podIP ?? ""):8080/ready", timeout: .seconds(5)))
                return ready?.status == 200
            }
            await probes.shutdown()
            let back = try await cluster.waitReady("d1")
            #expect(back.metadata.labels[DualPods.Label.dual] == name, "the same provider serves it again")
        }
    }
}

extension ControllerCluster {
    /// The server patch of these tests: the fake vLLM on port 8000 instead of the stub, and
    /// the set's label removed (so that the set does not adopt the provider).
    static let serverPatch = """
        metadata:
          labels:
            app: null
        spec:
          containers:
          - name: inference-server
            command: [python3, -m, fma_fakevllm, --port, "8000", --model, "fake/{{ .NodeName }}", --enable-sleep-mode]
            readinessProbe:
              httpGet: {path: /health, port: 8000}
              periodSeconds: 1
        """

    /// A direct-mode requester's Pod template on `node`; `variant` (an env var) makes specs differ.
    func directRequesterTemplate(variant: String, node: String, memoryFile: String?, labels: [String: String]) -> JSONObject {
        var command: [JSONValue] = ["fma-gpu-inventory", "requester", "--listen", "tcp://$(POD_IP):8082", "--token-file", .string(directory + "/token"),
                                    "--http-host", "$(POD_IP)", "--probes-port", "8080", "--spi-port", "8081"]
        if let memoryFile { command += ["--mock-file", .string(memoryFile)] }
        return [
            "metadata": ["labels": .object(JSONObject(labels.map { ($0.key, .string($0.value)) })),
                         "annotations": [.init(stringLiteral: DualPods.Annotation.serverPatch): .string(Self.serverPatch)]],
            "spec": ["terminationGracePeriodSeconds": 2, "nodeSelector": ["kubernetes.io/hostname": .string(node)], "containers": [[
                "name": "inference-server", "image": "fma/requester:test", "command": .array(command),
                "env": [["name": "VARIANT", "value": .string(variant)]],
                "ports": [["name": "probes", "containerPort": 8080], ["name": "spi", "containerPort": 8081], ["name": "fma-rpc", "containerPort": 8082]],
                "resources": ["limits": ["nvidia.com/gpu": "1"]],
                "readinessProbe": ["httpGet": ["path": "/ready", "port": 8080], "periodSeconds": 1],
            ]]],
        ]
    }

    @discardableResult
    func createDirectRequester(_ name: String, variant: String, node: String, memoryFile: String? = nil) async throws -> Pod {
        var json = directRequesterTemplate(variant: variant, node: node, memoryFile: memoryFile, labels: ["app": "direct"])
        json["apiVersion"] = "v1"
        json["kind"] = "Pod"
        json[path: ["metadata", "name"]] = .string(name)
        json[path: ["metadata", "namespace"]] = .string(namespace)
        return try await client.create(Pod(json: json))
    }

    /// A ReplicaSet of one direct-mode requester (label `app=NAME`).
    func createDirectRequesterSet(_ name: String, variant: String, node: String) async throws {
        let template = directRequesterTemplate(variant: variant, node: node, memoryFile: nil, labels: ["app": name])
        let json: JSONObject = [
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": ["replicas": 1, "selector": ["matchLabels": ["app": .string(name)]], "template": .object(template)],
        ]
        _ = try await client.create(ReplicaSet(json: json))
    }

    /// The gpu-map ConfigMap with the mock GPUs of `nodes`.
    func applyGPUMap(nodes: [String], gpus: Int = 1) async throws {
        var data: [String: String] = [:]
        for node in nodes {
            let entries = MockGPUs.uuids(node: node, count: gpus).enumerated().map { "\"\($0.element)\": \($0.offset)" }
            data[node] = "{" + entries.joined(separator: ", ") + "}"
        }
        var map = ConfigMap(name: GPUMap.configMapName, namespace: namespace)
        map.data = data
        if (try? await client.get(ConfigMap.self, name: GPUMap.configMapName, namespace: namespace)) == nil {
            _ = try await client.create(map)
        } else {
            try await modify(ConfigMap.self, GPUMap.configMapName) { $0.data = data }
        }
    }

    func directProviders() async throws -> [Pod] {
        try await client.list(Pod.self, namespace: namespace).items
            .filter { $0.metadata.annotations[DualPods.Annotation.nominal] != nil && !$0.isTerminating }
            .sorted { $0.metadata.name < $1.metadata.name }
    }

    func errors(_ pod: Pod?) -> [String] {
        pod?.metadata.annotations[DualPods.Annotation.status].flatMap(RequesterStatus.errors) ?? []
    }

    /// What the provider's own server says: GET /is_sleeping.
    func isSleeping(_ provider: Pod) async throws -> Bool {
        let http = HTTPClient(configuration: HTTPClient.Configuration())
        defer { Task { await http.shutdown() } }
        let response = try await http.send(HTTPClientRequest(.get, "http://\(provider.status.podIP ?? ""):8000/is_sleeping", timeout: .seconds(10)))
        let sleeping: Bool? = (try? JSONValue(parsing: response.body))?["is_sleeping"]?.bool
        guard let sleeping else {
            Issue.record("GET /is_sleeping answered \(response.status): \(response.bodyText)")
            throw CancellationError()
        }
        return sleeping
    }

    /// Deletes the requester and waits until its provider is unbound and its server asleep.
    func deleteAndWaitAsleep(_ requester: String, provider: String) async throws {
        try await client.delete(Pod.self, name: requester, namespace: namespace)
        try await waitGone(requester)
        let unbound = try #require(try await waitForPod(provider, "unbound and asleep") {
            $0?.metadata.annotations[DualPods.Annotation.requester] == nil && $0?.metadata.labels[DualPods.Label.sleeping] == "true"
        })
        #expect(unbound.metadata.labels[DualPods.Label.dual] == nil)
        #expect(!unbound.metadata.finalizers.contains(DualPods.Finalizer.provider))
        #expect(try await isSleeping(unbound) == true)
    }

    /// Serves a requester of `variant`, then deletes it; returns its provider (asleep by then).
    func serveAndRelease(_ name: String, variant: String, node: String, memoryFile: String? = nil) async throws -> String {
        try await createDirectRequester(name, variant: variant, node: node, memoryFile: memoryFile)
        let ready = try await waitReady(name)
        let provider = try #require(ready.metadata.labels[DualPods.Label.dual])
        try await deleteAndWaitAsleep(name, provider: provider)
        return provider
    }

    /// Waits for the one requester of a set (name nil: any requester not yet seen matches).
    @discardableResult
    func waitForPod(_ name: String?, timeout: Duration = .seconds(90), _ what: String, _ condition: @Sendable (Pod?) -> Bool) async throws -> Pod? {
        if let name { return try await waitForPod(name, timeout: timeout, what, condition) }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let requesters = try await client.list(Pod.self, namespace: namespace).items
                .filter { $0.metadata.annotations[DualPods.Annotation.serverPatch] != nil && $0.metadata.ownerReferences.isEmpty == false }
            if let match = requesters.first(where: condition) { return match }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting: \(what)")
        throw CancellationError()
    }
}
