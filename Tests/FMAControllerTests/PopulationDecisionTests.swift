@testable import FMAController
import FMAJSON
import FMAKubeModel
import Foundation
import Testing

/// The populator's decisions without sockets: which nodes a policy selects, how many
/// launchers a pair wants, when a launcher counts as stuck, when expectations hold.
@Suite struct PopulationDecisionTests {
    private func node(_ name: String, labels: [String: String] = [:], allocatable: [String: JSONValue] = [:]) -> Node {
        var node = Node(name: name)
        node.metadata.labels = labels
        node.status.json["allocatable"] = .object(JSONObject(allocatable.map { ($0.key, $0.value) }))
        return node
    }

    private func policy(_ name: String, selector: JSONValue = ["matchLabels": [:]], ranges: JSONValue? = nil,
                        counts: [(String, Int)]) -> PopulationPolicy {
        var selectorJSON: JSONObject = ["labelSelector": selector]
        if let ranges { selectorJSON["allocatableResources"] = ranges }
        return PopulationPolicy(LauncherPopulationPolicy(json: [
            "metadata": ["name": .string(name), "resourceVersion": "1"],
            "spec": ["enhancedNodeSelector": .object(selectorJSON),
                     "countForLauncher": .array(counts.map { ["launcherConfigName": .string($0.0), "launcherCount": .int(Int64($0.1))] })],
        ]))
    }

    @Test func selectionByLabelsAndExactAllocatableRanges() {
        let gpus = policy("gpus", selector: ["matchExpressions": [["key": "pool", "operator": "In", "values": ["a", "b"]]]],
                          ranges: ["nvidia.com/gpu": ["min": "2", "max": "8"], "memory": ["min": "64Gi"]], counts: [("lc", 1)])
        #expect(gpus.selects(node("n", labels: ["pool": "a"], allocatable: ["nvidia.com/gpu": "8", "memory": "68719476736"])))
        #expect(gpus.selects(node("n", labels: ["pool": "b"], allocatable: ["nvidia.com/gpu": .int(2), "memory": "65536Mi"])))
        // One byte short of 64Gi, one GPU too many, a resource the node lacks, a label outside the set.
        #expect(!gpus.selects(node("n", labels: ["pool": "a"], allocatable: ["nvidia.com/gpu": "8", "memory": "68719476735"])))
        #expect(!gpus.selects(node("n", labels: ["pool": "a"], allocatable: ["nvidia.com/gpu": "9", "memory": "64Gi"])))
        #expect(!gpus.selects(node("n", labels: ["pool": "a"], allocatable: ["memory": "64Gi"])))
        #expect(!gpus.selects(node("n", labels: ["pool": "c"], allocatable: ["nvidia.com/gpu": "4", "memory": "64Gi"])))
        // No ranges: every label-matched node.
        #expect(policy("all", counts: [("lc", 1)]).selects(node("n")))
    }

    @Test func aBrokenSelectorSelectsNothingAndSaysWhy() {
        let broken = policy("p", selector: ["matchExpressions": [["key": "pool", "operator": "Sometimes"]]],
                            ranges: ["cpu": ["min": "lots"]], counts: [("lc", 1)])
        #expect(!broken.selects(node("n", labels: ["pool": "a"], allocatable: ["cpu": "4"])))
        #expect(broken.selectorErrors.count == 2)
        #expect(broken.selectorErrors.contains { $0.hasPrefix("spec.enhancedNodeSelector.labelSelector: ") })
        #expect(broken.selectorErrors.contains { $0.hasPrefix("spec.enhancedNodeSelector.allocatableResources[cpu].min: quantity \"lots\" is invalid") })
    }

    @Test func anEmptyRangeIsReported() {
        let empty = policy("p", ranges: ["example.com/widget": ["min": "5", "max": "2"]], counts: [("lc", 1)])
        #expect(empty.selectorErrors == ["spec.enhancedNodeSelector.allocatableResources[example.com/widget]: min 5 is more than max 2, so no node can match"])
        #expect(!empty.selects(node("n", allocatable: ["example.com/widget": "3"])))
    }

    @Test func theTargetIsTheLargestCountOrHandsOffOrNone() {
        let n = node("n", labels: ["pool": "a"])
        let policies = [policy("one", counts: [("lc", 1), ("other", 5)]),
                        policy("three", selector: ["matchLabels": ["pool": "a"]], counts: [("lc", 3)]),
                        policy("elsewhere", selector: ["matchLabels": ["pool": "z"]], counts: [("lc", 9)]),
                        policy("dup", counts: [("lc", 0), ("lc", 2)])]
        #expect(PopulationTarget.of(node: n, config: "lc", policies: policies, templateHash: "h") == .count(3, templateHash: "h"))
        #expect(PopulationTarget.of(node: n, config: "lc", policies: policies, templateHash: nil) == .handsOff)
        #expect(PopulationTarget.of(node: n, config: "unlisted", policies: policies, templateHash: "h") == PopulationTarget.none)
        #expect(PopulationTarget.of(node: nil, config: "lc", policies: policies, templateHash: "h") == PopulationTarget.none)
        #expect(policies[3].counts["lc"] == 2)
    }

    @Test func launcherPhasesAndWhenTheyTurnStuck() throws {
        let created = Date(timeIntervalSince1970: 1_000_000)
        let thresholds = LauncherPhase.Thresholds(scheduling: .seconds(120), starting: .seconds(450))
        func pod(hash: String = "h", bound: Bool = false, ready: Bool = false, scheduledAt: Date? = nil) -> Pod {
            var pod = Pod(name: "l", namespace: "ns")
            pod.metadata.creationTimestamp = KubeTime.string(created)
            pod.metadata.annotations[DualPods.Annotation.launcherTemplateHash] = hash
            if bound { pod.metadata.annotations[DualPods.Annotation.requester] = "uid name" }
            var conditions: [Condition] = []
            if let scheduledAt { conditions.append(Condition(type: "PodScheduled", status: true, lastTransitionTime: KubeTime.string(scheduledAt))) }
            if ready { conditions.append(Condition(type: "Ready", status: true)) }
            pod.status.conditions = conditions
            return pod
        }
        func phase(_ pod: Pod, at seconds: Double) -> (LauncherPhase, Date?) {
            LauncherPhase.of(pod, templateHash: "h", thresholds: thresholds, now: created.addingTimeInterval(seconds))
        }
        #expect(phase(pod(bound: true, scheduledAt: nil), at: 9999).0 == .bound)
        #expect(phase(pod(hash: "old"), at: 0).0 == .stale)
        #expect(phase(pod(ready: true, scheduledAt: created), at: 9999).0 == .unbound)
        let unscheduled = phase(pod(), at: 60)
        #expect(unscheduled.0 == .unbound)
        #expect(unscheduled.1 == created.addingTimeInterval(120))
        #expect(phase(pod(), at: 120).0 == .stuckScheduling)
        let starting = phase(pod(scheduledAt: created.addingTimeInterval(100)), at: 500)
        #expect(starting.0 == .unbound)
        #expect(starting.1 == created.addingTimeInterval(550))
        #expect(phase(pod(scheduledAt: created.addingTimeInterval(100)), at: 550).0 == .stuckStarting)
        #expect(LauncherPhase.stuckStarting.rawValue == "stuck_starting")
    }

    @Test func expectationsWaitForTheCacheThenTimeOut() {
        var expectations = PopulatorExpectations(timeout: .seconds(5))
        let pair = PopulatorKey.Pair(node: "n", config: "lc")
        let start = ContinuousClock.now
        func pod(_ uid: String, deleting: Bool = false) -> Pod {
            var pod = Pod(name: uid, namespace: "ns")
            pod.metadata.uid = uid
            if deleting { pod.metadata.deletionTimestamp = "2026-01-01T00:00:00Z" }
            return pod
        }
        #expect(expectations.check(pair, cached: [], now: start) == .satisfied)
        expectations.created("new", for: pair, now: start)
        expectations.deleted("old", for: pair, now: start)
        #expect(expectations.check(pair, cached: [pod("old")], now: start + .seconds(1)) == .waiting)
        #expect(expectations.check(pair, cached: [pod("new"), pod("old")], now: start + .seconds(1)) == .waiting)
        // A deleted Pod still shown, but with its deletion begun, counts as deleted.
        #expect(expectations.check(pair, cached: [pod("new"), pod("old", deleting: true)], now: start + .seconds(1)) == .satisfied)
        #expect(expectations.check(pair, cached: [], now: start + .seconds(1)) == .satisfied)
        expectations.created("never", for: pair, now: start)
        #expect(expectations.check(pair, cached: [], now: start + .seconds(4)) == .waiting)
        #expect(expectations.check(pair, cached: [], now: start + .seconds(5)) == .timedOut)
        #expect(expectations.check(pair, cached: [], now: start + .seconds(6)) == .satisfied)
    }
}
