import FMAController
import FMAJSON
import FMAKubeModel
import Foundation
import Testing

/// The sleeper budget's choices (FMA's count rule with LRU order, and the memory rule).
@Suite struct SleeperBudgetTests {
    private let t0 = Date(timeIntervalSince1970: 2_000_000_000)

    private func sleeper(_ name: String, _ minutes: Double, gpus: [Int]) -> SleeperBudget.Sleeper {
        .init(name: name, uid: "uid-" + name, resourceVersion: "1", lastUsed: t0.addingTimeInterval(minutes * 60), gpuIndices: gpus)
    }

    @Test func theCountLimitEvictsTheLeastRecentlyUsedPerGPU() {
        let sleepers = [sleeper("c", 3, gpus: [0]), sleeper("a", 1, gpus: [0]), sleeper("b", 2, gpus: [0]), sleeper("d", 0, gpus: [1])]
        // Limit 2 on GPU 0 with three sleepers: the oldest goes; GPU 1 is not the new server's.
        #expect(SleeperBudget.evictions(newServerGPUs: [0], sleepers: sleepers, limit: 2).map(\.name) == ["a"])
        #expect(SleeperBudget.evictions(newServerGPUs: [0], sleepers: sleepers, limit: 3).isEmpty)
        #expect(SleeperBudget.evictions(newServerGPUs: [0, 1], sleepers: sleepers, limit: 0).map(\.name) == ["a", "b", "c", "d"])
        // Ties by name; a two-GPU sleeper counts on both and is chosen once.
        let tied = [sleeper("y", 1, gpus: [0, 1]), sleeper("x", 1, gpus: [0]), sleeper("z", 5, gpus: [1])]
        #expect(SleeperBudget.evictions(newServerGPUs: [0, 1], sleepers: tied, limit: 1).map(\.name) == ["x", "y"])
    }

    @Test func theMemoryRuleEvictsOneAtATimeWhereTheServerDoesNotFit() {
        let sleepers = [sleeper("old", 1, gpus: [0]), sleeper("new", 2, gpus: [0])]
        let tight = [0: SleeperBudget.Memory(used: 30 << 30, budget: 20 << 30)]
        let roomy = [0: SleeperBudget.Memory(used: 10 << 30, budget: 20 << 30)]
        #expect(SleeperBudget.evictions(newServerGPUs: [0], sleepers: sleepers, limit: 5, memory: tight).map(\.name) == ["old"])
        #expect(SleeperBudget.evictions(newServerGPUs: [0], sleepers: sleepers, limit: 5, memory: roomy).isEmpty)
        // Unknown memory: the count alone.
        #expect(SleeperBudget.evictions(newServerGPUs: [0], sleepers: sleepers, limit: 1, memory: [:]).map(\.name) == ["old"])
    }

    @Test func aProviderPodBecomesASleeperWithItsLastUse() throws {
        var pod = Pod(name: "p", namespace: "ns")
        pod.metadata.uid = "u"
        pod.metadata.creationTimestamp = "2026-01-01T00:00:00Z"
        pod.metadata.json["managedFields"] = [
            ["manager": "kubectl", "time": "2026-03-01T00:00:00Z"],
            ["manager": "dual-pods-controller", "time": "2026-02-01T00:00:00Z"],
        ]
        var container = Container(name: "inference-server", image: "x")
        container.env = [EnvVar(name: "CUDA_VISIBLE_DEVICES", value: "2, 3")]
        pod.spec.containers = [container]
        let sleeper = try #require(SleeperBudget.Sleeper(pod))
        #expect(sleeper.gpuIndices == [2, 3])
        #expect(sleeper.lastUsed == KubeTime.date("2026-02-01T00:00:00Z"))
        pod.metadata.json["managedFields"] = nil
        #expect(SleeperBudget.Sleeper(pod)?.lastUsed == KubeTime.date("2026-01-01T00:00:00Z"))
        pod.spec.containers = [Container(name: "inference-server", image: "x")]
        #expect(SleeperBudget.Sleeper(pod) == nil)
    }
}
