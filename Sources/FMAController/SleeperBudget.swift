public import FMAKubeModel
public import Foundation

/// Which sleeping direct providers to delete before a new provider is created on some GPUs
/// (FMA's §3.7.4, and fma's memory budget beside it).
///
/// - **Count** (FMA's): on each GPU of the new server, at most `limit` sleepers stay; the
///   least recently used beyond that go. "Used" is the controller's last write to the Pod
///   (bind or unbind: its managedFields entry of manager `dual-pods-controller`), else its
///   creation; ties by name.
/// - **Memory** (fma's, `--sleeper-memory-budget`): before the new server starts, what is in
///   use on its GPUs is the sleepers' (the scheduler gave the GPUs to its requester alone).
///   Where a GPU's measured use is above the budget — so the new server would not find the
///   rest of the GPU free — its least recently used sleeper goes too, one at a time, since what
///   a sleeper frees is only known once it is gone (the next pass measures again). Unknown
///   memory falls back to the count alone.
public enum SleeperBudget {
    /// A sleeping provider on one or more GPUs.
    public struct Sleeper: Sendable, Hashable {
        public var name: String
        public var uid: String
        public var resourceVersion: String
        public var lastUsed: Date
        public var gpuIndices: [Int]

        public init(name: String, uid: String, resourceVersion: String, lastUsed: Date, gpuIndices: [Int]) {
            self.name = name
            self.uid = uid
            self.resourceVersion = resourceVersion
            self.lastUsed = lastUsed
            self.gpuIndices = gpuIndices
        }

        /// A provider Pod as a sleeper: its GPU indices from `CUDA_VISIBLE_DEVICES`, its last
        /// use from the controller's managedFields entry (else its creation).
        public init?(_ pod: Pod, manager: String = DualPods.controllerName) {
            let indices = DirectProvider.gpuIndices(pod)
            guard !indices.isEmpty else { return nil }
            let managed = (pod.metadata.json["managedFields"]?.array ?? [])
                .filter { $0["manager"]?.string == manager }
                .compactMap { $0["time"]?.string.flatMap(KubeTime.date) }
                .max()
            guard let used = managed ?? pod.metadata.creationTimestamp.flatMap(KubeTime.date) else { return nil }
            self.init(name: pod.metadata.name, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion,
                      lastUsed: used, gpuIndices: indices)
        }
    }

    /// What a GPU's sleepers hold now (measured) and what they may hold (bytes).
    public struct Memory: Sendable, Hashable {
        public var used: UInt64
        public var budget: UInt64

        public init(used: UInt64, budget: UInt64) {
            self.used = used
            self.budget = budget
        }
    }

    /// The sleepers to delete, least recently used first, each once.
    public static func evictions(newServerGPUs: [Int], sleepers: [Sleeper], limit: Int, memory: [Int: Memory] = [:]) -> [Sleeper] {
        var chosen: [Sleeper] = []
        var gone: Set<String> = []
        for gpu in newServerGPUs {
            let here = sleepers.filter { $0.gpuIndices.contains(gpu) && !gone.contains($0.uid) }
                .sorted { ($0.lastUsed, $0.name) < ($1.lastUsed, $1.name) }
            var toGo = max(0, here.count - max(0, limit))
            if toGo == 0, let memory = memory[gpu], memory.used > memory.budget, !here.isEmpty { toGo = 1 }
            for sleeper in here.prefix(toGo) {
                chosen.append(sleeper)
                gone.insert(sleeper.uid)
            }
        }
        return chosen
    }
}
