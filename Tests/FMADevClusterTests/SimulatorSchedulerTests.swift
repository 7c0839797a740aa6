@testable import FMADevCluster
import FMAJSON
import FMAKubeModel
import FMATestSupport
import Foundation
import Testing

@Suite("Simulator: scheduler and ReplicaSets")
struct SimulatorSchedulerTests {
    @Test("GPU requests beyond capacity stay Pending with one FailedScheduling event, and schedule when GPUs free up")
    func gpuCapacity() async throws {
        try await withSimulator(nodes: 1, gpusPerNode: 2) { store, _ in
            _ = try store.create(.pod, namespace: "default", podJSON("big", containers: [simulatedContainer(gpus: 2)]))
            try await waitForPod(store, "big", "Running") { $0.status.phase == "Running" }
            _ = try store.create(.pod, namespace: "default", podJSON("late", containers: [simulatedContainer(gpus: 1)]))
            let pending = try await waitForPod(store, "late", "Unschedulable") { $0.status.condition("PodScheduled")?.reason == "Unschedulable" }
            #expect(pending.status.phase == "Pending")
            #expect(pending.spec.nodeName == nil)
            #expect(pending.status.condition("PodScheduled")?.message?.contains("Insufficient nvidia.com/gpu") == true)
            // Unrelated churn does not repeat the event.
            _ = try store.create(.pod, namespace: "default", podJSON("small", containers: [simulatedContainer()]))
            try await waitForPod(store, "small", "Running") { $0.status.phase == "Running" }
            _ = try store.delete(.pod, namespace: "default", name: "small")
            try await waitUntil("small to go") { store.pod("small") == nil }
            #expect(store.events(about: "late", reason: "FailedScheduling").count == 1)
            let event = try #require(store.events(about: "late", reason: "FailedScheduling").first)
            #expect(event.type == "Warning" && event.sourceComponent == "default-scheduler")

            _ = try store.delete(.pod, namespace: "default", name: "big")
            let bound = try await waitForPod(store, "late", "scheduled") { $0.spec.nodeName == "node-1" && $0.status.phase == "Running" }
            #expect(bound.status.condition("PodScheduled")?.isTrue == true)
            #expect(store.events(about: "late", reason: "Scheduled").first?.sourceComponent == "default-scheduler")
        }
    }

    @Test("nodeSelector, node affinity, taints and cordon are honored")
    func placement() async throws {
        try await withSimulator(nodes: 3, gpusPerNode: 0) { store, _ in
            _ = try store.patch(.node, namespace: "", name: "node-1", .merge(["spec": ["taints": [["key": "dedicated", "value": "gpu", "effect": "NoSchedule"]]]]))
            _ = try store.patch(.node, namespace: "", name: "node-2", .merge(["spec": ["unschedulable": true]]))
            for index in 0..<4 {
                _ = try store.create(.pod, namespace: "default", podJSON("free-\(index)", containers: [simulatedContainer()]))
            }
            for index in 0..<4 {
                let pod = try await waitForPod(store, "free-\(index)", "bound") { $0.spec.nodeName != nil }
                #expect(pod.spec.nodeName == "node-3")
            }
            let toleration: JSONValue = ["key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"]
            _ = try store.create(.pod, namespace: "default", podJSON("tolerant", containers: [simulatedContainer()], spec: [
                "nodeSelector": ["kubernetes.io/hostname": "node-1"], "tolerations": [toleration],
            ]))
            #expect(try await waitForPod(store, "tolerant", "bound") { $0.spec.nodeName != nil }.spec.nodeName == "node-1")
            let affinity: JSONValue = ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": [
                ["matchExpressions": [["key": "kubernetes.io/hostname", "operator": "In", "values": ["node-2"]]]],
            ]]]]
            _ = try store.create(.pod, namespace: "default", podJSON("cordoned", containers: [simulatedContainer()], spec: ["affinity": affinity]))
            let pending = try await waitForPod(store, "cordoned", "Unschedulable") { $0.status.condition("PodScheduled")?.reason == "Unschedulable" }
            let message = pending.status.condition("PodScheduled")?.message ?? ""
            #expect(message.hasPrefix("0/3 nodes are available"))
            #expect(message.contains("1 node(s) were unschedulable"))
            #expect(message.contains("1 node(s) had untolerated taint {dedicated: gpu}"))
            _ = try store.patch(.node, namespace: "", name: "node-2", .merge(["spec": ["unschedulable": nil]]))
            #expect(try await waitForPod(store, "cordoned", "bound") { $0.spec.nodeName != nil }.spec.nodeName == "node-2")
        }
    }

    @Test("a ReplicaSet's pods follow spec.replicas")
    func replicaSet() async throws {
        try await withSimulator(nodes: 2, gpusPerNode: 0) { store, _ in
            let template: JSONValue = [
                "metadata": ["labels": ["app": "web"]],
                "spec": ["containers": [simulatedContainer("web")]],
            ]
            let replicaSet: JSONObject = [
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": "web", "namespace": "default"],
                "spec": ["replicas": 3, "selector": ["matchLabels": ["app": "web"]], "template": template],
            ]
            _ = try store.create(.replicaSet, namespace: "default", replicaSet)
            func active() -> [Pod] {
                ((try? store.list(.pod, namespace: "default").items) ?? []).map(Pod.init(json:)).filter { !$0.isTerminating }
            }
            func status() -> ReplicaSetStatus? {
                (try? store.get(.replicaSet, namespace: "default", name: "web")).map { ReplicaSet(json: $0).status }
            }
            try await waitUntil("3 ready replicas") { active().count == 3 && status()?.readyReplicas == 3 }
            #expect(active().allSatisfy { $0.metadata.name.hasPrefix("web-") && $0.metadata.ownerReferences.first?.kind == "ReplicaSet" })
            #expect(status()?.replicas == 3 && status()?.availableReplicas == 3 && status()?.observedGeneration == 1)

            _ = try store.patch(.replicaSet, namespace: "default", name: "web", .merge(["spec": ["replicas": 1]]))
            try await waitUntil("1 replica") { active().count == 1 && status()?.replicas == 1 && status()?.observedGeneration == 2 }
            _ = try store.patch(.replicaSet, namespace: "default", name: "web", .merge(["spec": ["replicas": 4]]))
            try await waitUntil("4 ready replicas") { active().count == 4 && status()?.readyReplicas == 4 }
            // Stays there.
            try await Task.sleep(for: .milliseconds(200))
            #expect(active().count == 4)
        }
    }

    /// Many nodes and pods at once, every pod placed and started; how fast is the benchmark's
    /// business (`fma-bench kube`: 1,000 nodes, 10,000 pods), not a test's.
    @Test("100 nodes and 1,000 pods (half asking for a GPU) are all scheduled and running")
    func many() async throws {
        try await withSimulator(nodes: 100, gpusPerNode: 8) { store, _ in
            for index in 0..<1_000 {
                _ = try store.create(.pod, namespace: "default", podJSON("p-\(index)", containers: [simulatedContainer(gpus: index % 2)]))
            }
            do {
                try await waitUntil(timeout: .seconds(120), "1,000 pods Running") {
                    let page = try store.list(.pod, namespace: "default", fields: .equals("status.phase", "Running"), limit: 1)
                    return (page.remainingItemCount ?? 0) + page.items.count == 1_000
                }
            } catch {
                // Say where the others are stuck: unbound (and why) or bound but not started.
                let stuck = try store.list(.pod, namespace: "default").items.map(Pod.init(json:)).filter { $0.status.phase != "Running" }
                let reasons = Dictionary(grouping: stuck) { pod in
                    pod.spec.nodeName == nil ? "unbound: \(pod.status.condition("PodScheduled")?.message ?? "never tried")" : "bound, phase \(pod.status.phase ?? "none")"
                }.mapValues(\.count)
                Issue.record("\(error); \(stuck.count) pods not Running: \(reasons)")
            }
            // No node got more GPU pods than it has GPUs.
            let pods = try store.list(.pod, namespace: "default").items.map(Pod.init(json:))
            let gpuPods = pods.filter { (Int($0.metadata.name.dropFirst(2)) ?? 0) % 2 == 1 }
            #expect(gpuPods.count == 500)
            let gpuPodsPerNode = Dictionary(grouping: gpuPods, by: { $0.spec.nodeName ?? "" })
            #expect(gpuPodsPerNode.values.allSatisfy { $0.count <= 8 })
        }
    }

    @Test("GPU counts from objects are clamped: huge limits neither overflow nor fit, odd capacities neither trap nor hang")
    func hostileGPUCounts() {
        func container(_ gpus: String) -> JSONValue {
            ["name": "c", "image": "i", "resources": ["limits": ["nvidia.com/gpu": .string(gpus)]]]
        }
        let huge = String(Int.max)
        let pod = podJSON("greedy", containers: [container(huge), container(huge), container("-3")]).settingUID("u")
        let gpus = SchedulingRequirements(pod: pod).gpus
        #expect(gpus > SchedulingRequirements.maxGPUs)
        var state = SchedulerState()
        state.observe(node: SimulatedNode(name: "n1", index: 1, gpus: 8).object(cpu: "1", memory: "1Gi", maxPods: 10, now: "t"), deleted: false)
        state.observe(pod: pod, deleted: false)
        #expect(state.schedule(retry: false).allSatisfy { if case .unschedulable = $0 { true } else { false } })

        for (capacity, expected) in [("-1", 0), (huge, SchedulingRequirements.maxGPUs)] {
            var node = SimulatedNode(name: "odd", index: 1, gpus: 1).object(cpu: "1", memory: "1Gi", maxPods: 10, now: "t")
            node[path: ["status", "capacity", "nvidia.com/gpu"]] = .string(capacity)
            node[path: ["status", "allocatable", "nvidia.com/gpu"]] = .string(capacity)
            let info = NodeInfo(json: node)
            #expect(info.gpuCapacity == expected)
            var resources = NodeResources(node: SimulatedNode(name: "odd", index: 1, gpus: info.gpuCapacity))
            #expect(resources.takeGPUs(1)?.count == (expected > 0 ? 1 : nil))
        }
    }

    /// The scheduler's watch lags behind its own writes: the MODIFIED of its `PodScheduled=False`
    /// write can arrive after it bound the pod. Such an event must neither bind the pod again
    /// nor count its GPUs twice (which, in a burst, left GPU pods Pending forever on nodes
    /// with free GPUs).
    @Test("scheduler state: an event older than the scheduler's own binding changes nothing")
    func stateIgnoresEventsOlderThanItsBinding() throws {
        var state = SchedulerState()
        let unbound = podJSON("p", containers: [simulatedContainer(gpus: 1)]).settingUID("u")
        state.observe(pod: unbound, deleted: false)
        #expect(state.schedule(retry: false).allSatisfy { if case .unschedulable = $0 { true } else { false } })
        state.observe(node: SimulatedNode(name: "n1", index: 1, gpus: 2).object(cpu: "1", memory: "1Gi", maxPods: 10, now: "t"), deleted: false)
        #expect(state.schedule(retry: true) == [.bind(namespace: "default", name: "p", uid: "u", node: "n1")])
        #expect(state.gpusUsed(on: "n1") == 1)

        var stale = unbound
        stale[path: ["status", "conditions"]] = [["type": "PodScheduled", "status": "False", "reason": "Unschedulable"]]
        state.observe(pod: stale, deleted: false)
        #expect(state.schedule(retry: false).isEmpty)
        #expect(state.schedule(retry: true).isEmpty)
        var bound = unbound
        bound[path: ["spec", "nodeName"]] = "n1"
        state.observe(pod: bound, deleted: false)
        #expect(state.gpusUsed(on: "n1") == 1)

        state.observe(pod: podJSON("q", containers: [simulatedContainer(gpus: 1)]).settingUID("v"), deleted: false)
        #expect(state.schedule(retry: false) == [.bind(namespace: "default", name: "q", uid: "v", node: "n1")])
        #expect(state.pendingCount == 0)
    }

    /// The same through the real scheduler and store, with the events in the order a lagging
    /// watch delivers them: the pod that needs the GPU left free must get it.
    @Test("a late event about a bound pod does not strand the next pod")
    func lateEventDoesNotStrandNextPod() async throws {
        let store = ObjectStore()
        let scheduler = Scheduler(store: store, logger: testLogger("fma.devcluster.scheduler"))
        let node = try store.create(.node, namespace: "", SimulatedNode(name: "n1", index: 1, gpus: 2).object(cpu: "1", memory: "1Gi", maxPods: 10, now: "t"))
        let first = try store.create(.pod, namespace: "default", podJSON("first", containers: [simulatedContainer(gpus: 1)]))
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await scheduler.run() }
            defer { scheduler.finish() }
            scheduler.send(.pod(StoreEvent(type: .added, object: first)))
            try await waitForPod(store, "first", "Unschedulable (no node yet)") { $0.status.condition("PodScheduled")?.reason == "Unschedulable" }
            let unschedulableWrite = try store.get(.pod, namespace: "default", name: "first")
            scheduler.send(.node(StoreEvent(type: .added, object: node)))
            try await waitForPod(store, "first", "bound") { $0.spec.nodeName == "n1" }
            scheduler.send(.pod(StoreEvent(type: .modified, object: unschedulableWrite)))
            scheduler.send(.pod(StoreEvent(type: .modified, object: try store.get(.pod, namespace: "default", name: "first"))))
            let second = try store.create(.pod, namespace: "default", podJSON("second", containers: [simulatedContainer(gpus: 1)]))
            scheduler.send(.pod(StoreEvent(type: .added, object: second)))
            try await waitForPod(store, "second", timeout: .seconds(10), "bound to the node's free GPU") { $0.spec.nodeName == "n1" }
        }
    }

    @Test("scheduler state: a node takes no more pods than its allocatable pods; the next waits with Too many pods, and binds once one goes")
    func stateRespectsAllocatablePods() {
        var state = SchedulerState()
        state.observe(node: SimulatedNode(name: "n1", index: 1, gpus: 0).object(cpu: "1", memory: "1Gi", maxPods: 2, now: "t"), deleted: false)
        // A pod bound by someone else (a static or daemon pod) counts too.
        var placed = podJSON("daemon", containers: [simulatedContainer(gpus: 0)]).settingUID("d")
        placed[path: ["spec", "nodeName"]] = "n1"
        state.observe(pod: placed, deleted: false)
        for index in 0..<2 {
            state.observe(pod: podJSON("p\(index)", containers: [simulatedContainer(gpus: 0)]).settingUID("u\(index)"), deleted: false)
        }
        let decisions = state.schedule(retry: false)
        #expect(decisions.first == .bind(namespace: "default", name: "p0", uid: "u0", node: "n1"))
        #expect(decisions.last == .unschedulable(namespace: "default", name: "p1", uid: "u1", message: "0/1 nodes are available: 1 Too many pods."))
        #expect(state.podsBound(on: "n1") == 2)
        state.observe(pod: placed, deleted: true)
        #expect(state.schedule(retry: true) == [.bind(namespace: "default", name: "p1", uid: "u1", node: "n1")])

        // Simulated nodes never offer more pods than the kubelet has addresses.
        let big = NodeInfo(json: SimulatedNode(name: "n2", index: 2, gpus: 0).object(cpu: "1", memory: "1Gi", maxPods: 1000, now: "t"))
        #expect(big.podCapacity == SimulatedNode.podAddresses)
        // A node made by hand without a status is not limited.
        #expect(NodeInfo(json: ["metadata": ["name": "bare"]]).podCapacity == .max)
    }

    @Test("scheduler state: first fit from a rotating start; GPU accounting")
    func stateSpreads() {
        var state = SchedulerState()
        for index in 1...3 {
            state.observe(node: SimulatedNode(name: "n\(index)", index: index, gpus: 1).object(cpu: "1", memory: "1Gi", maxPods: 10, now: "t"), deleted: false)
        }
        for index in 0..<4 {
            state.observe(pod: podJSON("p\(index)", containers: [simulatedContainer(gpus: 1)]).settingUID("u\(index)"), deleted: false)
        }
        let decisions = state.schedule(retry: false)
        let bound = decisions.compactMap { if case .bind(_, _, _, let node) = $0 { node } else { nil } }
        #expect(Set(bound) == ["n1", "n2", "n3"])
        #expect(decisions.contains { if case .unschedulable(_, "p3", _, let message) = $0 { message == "0/3 nodes are available: 3 Insufficient nvidia.com/gpu." } else { false } })
        #expect(state.schedule(retry: true).isEmpty)  // same reason: nothing new to report
    }
}

extension JSONObject {
    func settingUID(_ uid: String) -> JSONObject {
        var copy = self
        copy[path: ["metadata", "uid"]] = .string(uid)
        return copy
    }
}
