import FMAController
import FMAJSON
import FMAKube
import FMAKubeModel
import FMATestSupport
import Foundation
import Prometheus
import ServiceLifecycle
import Testing

/// The launcher populator end to end on fma-devcluster (real launcher processes): one cluster
/// of three nodes walks through every policy behaviour in turn, each step waiting (bounded) for
/// what a user would see — launcher Pods per node, labels, Events, statuses.
@Suite(.serialized) struct LauncherPopulatorTests {
    @Test func policiesShapeTheLauncherPopulation() async throws {
        try await ControllerCluster.with(nodes: 3, gpus: 1, startController: false) { cluster in
            try await cluster.applyLauncherConfig(name: "lc")
            let first = cluster.makePopulator()
            try await withRunningServices([ControllerService(first.populator)]) { _ in
                // A policy selecting pool=a: one launcher on each labelled node, none elsewhere.
                try await cluster.label(node: "node-1", "pool", "a")
                try await cluster.label(node: "node-2", "pool", "a")
                try await cluster.applyPolicy("pool-a", selector: ["pool": "a"], counts: ["lc": 1])
                try await cluster.waitLaunchers("one per pool=a node") { $0 == ["node-1": 1, "node-2": 1] }
                try await cluster.waitStatus(LauncherConfig.self, "lc", errors: [])
                try await cluster.waitStatus(LauncherPopulationPolicy.self, "pool-a", errors: [])

                // Labels change: node-3 joins, node-1 leaves.
                try await cluster.label(node: "node-3", "pool", "a")
                try await cluster.label(node: "node-1", "pool", nil)
                try await cluster.waitLaunchers("node-3 in, node-1 out") { $0 == ["node-2": 1, "node-3": 1] }

                // An allocatable range, overlapping the first policy: the larger count wins while
                // node-2's widgets are in range, the smaller once they are not.
                try await cluster.setAllocatable(node: "node-2", "example.com/widget", "3")
                try await cluster.applyPolicy("widgets", selector: [:], ranges: ["example.com/widget": ("2", "4")], counts: ["lc": 2])
                try await cluster.waitLaunchers("two on node-2") { $0 == ["node-2": 2, "node-3": 1] }
                try await cluster.setAllocatable(node: "node-2", "example.com/widget", "5")
                try await cluster.waitLaunchers("back to one on node-2") { $0 == ["node-2": 1, "node-3": 1] }

                // A LauncherConfig change replaces unbound launchers and never touches a bound one.
                // (Live launchers only: the one the widgets policy let go may still be terminating.)
                let live = try await cluster.launcherPods().filter { $0.metadata.deletionTimestamp == nil }
                let byNode = Dictionary(grouping: live) { $0.metadata.labels[DualPods.Label.nodeName] ?? "" }
                let node3 = try #require(byNode["node-3"]?.first)
                let node2 = try #require(byNode["node-2"]?.first)
                try await cluster.modify(Pod.self, node3.metadata.name) { $0.metadata.annotations[DualPods.Annotation.requester] = "uid-1 someone" }
                try await cluster.modify(LauncherConfig.self, "lc") { config in
                    config.json[path: ["spec", "podTemplate", "metadata"]] = ["labels": ["generation": "two"]]
                }
                try await cluster.waitLaunchers("node-2's launcher \(node2.metadata.name) replaced (live when picked: \(live.map { "\($0.metadata.name)@\($0.metadata.labels[DualPods.Label.nodeName] ?? "-")" }), node3 \(node3.metadata.name))", { counts in counts == ["node-2": 1, "node-3": 1] }) { pods in
                    pods.allSatisfy { $0.metadata.name != node2.metadata.name }
                }
                let after = try await cluster.launcherPods().filter { $0.metadata.deletionTimestamp == nil }
                #expect(after.contains { $0.metadata.name == node3.metadata.name && $0.metadata.deletionTimestamp == nil })
                let replaced = after.filter { $0.metadata.labels[DualPods.Label.nodeName] == "node-2" }
                #expect(replaced.count == 1 && replaced.first?.metadata.labels["generation"] == "two",
                        "node-2's launchers: \(replaced.map { "\($0.metadata.name) \($0.metadata.labels)" })")

                // A missing or malformed config: hands-off, and the statuses say why.
                try await cluster.applyBrokenLauncherConfig(name: "bad")
                try await cluster.applyPolicy("broken", selector: [:], counts: ["bad": 1, "missing": 1])
                let strayBad = try await cluster.createStrayLauncher("stray-bad", config: "bad", node: "node-1")
                let strayOrphan = try await cluster.createStrayLauncher("stray-orphan", config: "nobody-lists-me", node: "node-1")
                try await cluster.waitStatus(LauncherConfig.self, "bad", errors: [
                    "LauncherConfig \"bad\": container \"inference-server\" has no port named \"fma-rpc\"; add the port fma-launcher serves its RPC on (--listen tcp://$(POD_IP):PORT) under that name",
                ])
                try await cluster.waitStatus(LauncherPopulationPolicy.self, "broken", errors: [
                    "LauncherConfig \"bad\" referenced in CountForLauncher is malformed: LauncherConfig \"bad\": container \"inference-server\" has no port named \"fma-rpc\"; add the port fma-launcher serves its RPC on (--listen tcp://$(POD_IP):PORT) under that name",
                    "LauncherConfig \"missing\" referenced in CountForLauncher does not exist",
                ])
                // A launcher of a config no policy lists goes; one of the broken config stays.
                try await cluster.waitForPod(strayOrphan.metadata.name, "deleted as an orphan") { $0 == nil || $0?.metadata.deletionTimestamp != nil }
                try await cluster.waitIdle(first)
                #expect(try await cluster.pod(strayBad.metadata.name)?.metadata.deletionTimestamp == nil)

                // A launcher that cannot be scheduled turns stuck (label + one Event), then recovers.
                try await cluster.applyLauncherConfig(name: "picky", nodeSelector: ["gpu-kind": "rare"])
                try await cluster.applyPolicy("picky", selector: ["kubernetes.io/hostname": "node-3"], counts: ["picky": 1])
                let stuck = try await cluster.waitLauncher(config: "picky", node: "node-3", "labelled stuck") {
                    $0.metadata.labels[DualPods.Label.launcherStuck] == "true"
                }
                let events = try await cluster.events(about: stuck.metadata.name).filter { $0.reason == "LauncherStuck" }
                #expect(events.count == 1)
                #expect(events.first?.message == "Launcher is stuck (stuck_scheduling); leaving it in place for investigation")
                #expect(events.first?.type == "Warning")
                try await cluster.label(node: "node-3", "gpu-kind", "rare")
                try await cluster.waitForPod(stuck.metadata.name, "no longer stuck") { $0?.metadata.labels[DualPods.Label.launcherStuck] == nil }
                #expect(first.metricsText().contains(#"fma_launcher_pod_count{lcfg_name="picky",phase="stuck_scheduling"} 0"#))

                // Deleting a policy removes its unbound launchers (node-2's lc) but not the bound one.
                try await cluster.client.delete(LauncherPopulationPolicy.self, name: "picky", namespace: cluster.namespace)
                try await cluster.client.delete(LauncherPopulationPolicy.self, name: "pool-a", namespace: cluster.namespace)
                try await cluster.waitLaunchers("only the bound launcher left") { $0 == ["node-3": 1] }
                #expect(try await cluster.pod(strayBad.metadata.name)?.metadata.deletionTimestamp == nil)
                try await cluster.waitIdle(first)
            }

            // A restarted populator creates and deletes nothing when nothing changed.
            let before = Set(try await cluster.launcherPods().filter { $0.metadata.deletionTimestamp == nil }.map(\.metadata.name))
            let second = cluster.makePopulator()
            try await withRunningServices([ControllerService(second.populator)]) { _ in
                try await cluster.waitIdle(second)
                let now = Set(try await cluster.launcherPods().filter { $0.metadata.deletionTimestamp == nil }.map(\.metadata.name))
                #expect(now == before)
                #expect(!second.metricsText().contains("fma_populator_launchers_created_total"))
                #expect(!second.metricsText().contains("fma_populator_launchers_deleted_total"))
            }
        }
    }
}

/// A populator and its own metrics registry.
struct TestPopulator: Sendable {
    let populator: LauncherPopulator
    let registry: PrometheusCollectorRegistry

    func metricsText() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

extension ControllerCluster {
    func makePopulator() -> TestPopulator {
        var options = LauncherPopulator.Options(namespace: namespace)
        options.thresholds = LauncherPhase.Thresholds(scheduling: .seconds(2), starting: .seconds(120))
        options.expectationTimeout = .seconds(5)
        let registry = PrometheusCollectorRegistry()
        return TestPopulator(populator: LauncherPopulator(client: client, options: options, metrics: PopulatorMetrics(registry: registry),
                                                          logger: testLogger("fma.populator")),
                             registry: registry)
    }

    /// Waits (bounded) until the populator has nothing queued or in hand, three looks in a row.
    func waitIdle(_ populator: TestPopulator, timeout: Duration = .seconds(60)) async throws {
        try await waitIdle("the populator", timeout: timeout) { populator.populator.isIdle }
    }

    /// Waits (bounded) until the controller has nothing queued or in hand, three looks in a row.
    func waitIdle(_ controller: DualPodsController, timeout: Duration = .seconds(60)) async throws {
        try await waitIdle("the dual-pods controller", timeout: timeout) { controller.isIdle }
    }

    private func waitIdle(_ what: String, timeout: Duration, _ isIdle: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        var quiet = 0
        while ContinuousClock.now < deadline {
            quiet = isIdle() ? quiet + 1 : 0
            if quiet >= 3 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("\(what) did not become idle")
        throw CancellationError()
    }

    func label(node: String, _ key: String, _ value: String?) async throws {
        try await modify(Node.self, node) { $0.metadata.labels[key] = value }
    }

    func setAllocatable(node: String, _ resource: String, _ value: String) async throws {
        let patch: JSONValue = ["status": ["allocatable": [.init(stringLiteral: resource): .string(value)]]]
        let _: Node = try await client.patchStatus(name: node, .merge(patch))
    }

    func applyPolicy(_ name: String, selector: [String: String], ranges: [String: (String?, String?)] = [:], counts: [String: Int]) async throws {
        var policy = LauncherPopulationPolicy(json: ["apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "LauncherPopulationPolicy",
                                                    "metadata": ["name": .string(name), "namespace": .string(namespace)]])
        var spec = LauncherPopulationPolicySpec()
        var nodeSelector = EnhancedNodeSelector()
        nodeSelector.labelSelector = ["matchLabels": .object(JSONObject(selector.map { ($0.key, .string($0.value)) }))]
        nodeSelector.allocatableResources = ranges.mapValues { ResourceRange(min: $0.0, max: $0.1) }
        spec.enhancedNodeSelector = nodeSelector
        spec.countForLauncher = counts.sorted { $0.key < $1.key }.map { CountForLauncher(launcherConfigName: $0.key, launcherCount: $0.value) }
        policy.spec = spec
        _ = try await client.create(policy)
    }

    /// A LauncherConfig without the fma-rpc port (malformed for the controllers).
    func applyBrokenLauncherConfig(name: String) async throws {
        let json: JSONObject = [
            "apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "LauncherConfig",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": ["maxInstances": 1, "podTemplate": ["spec": [
                "containers": [["name": "inference-server", "image": "fma/launcher:test", "command": ["fma-launcher", "serve"]]],
            ]]],
        ]
        _ = try await client.create(LauncherConfig(json: json))
    }

    /// A Pod labelled as a launcher of `config` on `node` that never schedules (nothing runs).
    func createStrayLauncher(_ name: String, config: String, node: String) async throws -> Pod {
        var pod = Pod(name: name, namespace: namespace)
        pod.metadata.labels = [DualPods.Label.component: DualPods.Label.componentLauncher,
                               DualPods.Label.launcherConfigName: config, DualPods.Label.nodeName: node]
        var spec = PodSpec()
        spec.nodeSelector = ["no-such-label": "x"]
        spec.containers = [Container(name: "inference-server", image: "fma/launcher:test")]
        pod.spec = spec
        return try await client.create(pod)
    }

    /// Live (not being deleted) launcher Pods per node.
    func launcherCounts(_ pods: [Pod], config: String = "lc") -> [String: Int] {
        var counts: [String: Int] = [:]
        for pod in pods where pod.metadata.deletionTimestamp == nil && pod.metadata.labels[DualPods.Label.launcherConfigName] == config {
            counts[pod.metadata.labels[DualPods.Label.nodeName] ?? "?", default: 0] += 1
        }
        return counts
    }

    /// Waits (bounded) until the live launchers of `lc` per node satisfy `condition` (and `pods`).
    func waitLaunchers(_ what: String, timeout: Duration = .seconds(60), _ condition: @Sendable ([String: Int]) -> Bool,
                       pods: @Sendable ([Pod]) -> Bool = { _ in true }) async throws {
        let deadline = ContinuousClock.now + timeout
        var last: [String: Int] = [:]
        var seen: [Pod] = []
        while ContinuousClock.now < deadline {
            seen = try await launcherPods()
            last = launcherCounts(seen)
            if condition(last), pods(seen) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        let described = seen.map { pod in
            "\(pod.metadata.name) node=\(pod.metadata.labels[DualPods.Label.nodeName] ?? "") deleting=\(pod.metadata.deletionTimestamp != nil) "
                + "finalizers=\(pod.metadata.finalizers) phase=\(pod.status.phase ?? "")"
        }
        Issue.record("timed out waiting for launchers: \(what); last seen per node: \(last); pods: \(described)")
        throw CancellationError()
    }

    func waitLauncher(config: String, node: String, timeout: Duration = .seconds(60), _ what: String, _ condition: @Sendable (Pod) -> Bool) async throws -> Pod {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let found = try await launcherPods().first {
                $0.metadata.labels[DualPods.Label.launcherConfigName] == config && $0.metadata.labels[DualPods.Label.nodeName] == node && condition($0)
            }
            if let found { return found }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for a launcher of \(config) on \(node): \(what)")
        throw CancellationError()
    }

    /// Waits (bounded) until the object's status observed its generation with these errors.
    func waitStatus<T: KubeObject>(_ type: T.Type, _ name: String, errors: [String], timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = FMAStatus()
        while ContinuousClock.now < deadline {
            let object = try await client.get(type, name: name, namespace: namespace)
            last = FMAStatus(json: object.json["status"]?.object ?? JSONObject())
            if last.observedGeneration == object.metadata.generation, last.errors == errors { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for the status of \(name): observedGeneration and errors \(errors); last: \(last.json)")
        throw CancellationError()
    }
}
