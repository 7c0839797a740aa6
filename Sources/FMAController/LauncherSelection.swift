public import Foundation

/// FMA's choice of a launcher for a requester with no provider yet (§3.8.2), as a pure function
/// of what the controller knows: a launcher holding the wanted instance (hot) beats one with
/// room (warm), which beats reclaiming room by deleting instances, which beats waiting for a
/// launcher still starting; with none of those, a new launcher is made (cold).
public enum LauncherSelection {
    /// One candidate launcher Pod: same LauncherConfig content, same node.
    public struct Candidate: Sendable, Hashable {
        public var podName: String
        /// Failed or being deleted: never chosen.
        public var gone: Bool
        /// Bound to some requester already.
        public var bound: Bool
        /// Its instances are known (the controller's watch on it has synced).
        public var usable: Bool
        public var instances: [Instance]

        public init(podName: String, gone: Bool = false, bound: Bool = false, usable: Bool = true, instances: [Instance] = []) {
            self.podName = podName
            self.gone = gone
            self.bound = bound
            self.usable = usable
            self.instances = instances
        }
    }

    /// A running instance on a candidate.
    public struct Instance: Sendable, Hashable {
        public var id: String
        /// From the instance's `inference-port` annotation; nil when missing or not a number.
        public var port: Int?
        /// When it was last bound or unbound (least recently used goes first).
        public var lastUsed: Date

        public init(id: String, port: Int?, lastUsed: Date) {
            self.id = id
            self.port = port
            self.lastUsed = lastUsed
        }
    }

    public enum Decision: Sendable, Hashable {
        /// Bind this launcher; it holds the wanted instance already (a hot start).
        case hot(podName: String)
        /// Bind this launcher; it has room for a new instance (a warm start), after deleting
        /// `victims` (port conflicts first, then the least recently used).
        case warm(podName: String, victims: [String])
        /// An instance without a readable `inference-port` annotation: delete it, then decide again.
        case deleteUnreadable(podName: String, instanceID: String)
        /// Launchers are starting: wait for them rather than make another.
        case wait
        /// No launcher can serve: create one (a cold start).
        case create
    }

    /// Decides for the instance `targetID` on `port`, with at most `maxInstances` per launcher.
    public static func decide(candidates: [Candidate], targetID: String, port: Int, maxInstances: Int) -> Decision {
        let maxOthers = max(0, maxInstances - 1)
        var somePodsNotReady = false
        var capacity: String?
        var bestPlan: (podName: String, victims: [String], lru: (Date, String))?
        for candidate in candidates where !candidate.gone && !candidate.bound {
            guard candidate.usable else {
                somePodsNotReady = true
                continue
            }
            var portConflicts: [Instance] = []
            var others: [Instance] = []
            var hasTarget = false
            for instance in candidate.instances {
                guard let instancePort = instance.port else {
                    return .deleteUnreadable(podName: candidate.podName, instanceID: instance.id)
                }
                if instance.id == targetID {
                    hasTarget = true
                } else if instancePort == port {
                    portConflicts.append(instance)
                } else {
                    others.append(instance)
                }
            }
            if hasTarget { return .hot(podName: candidate.podName) }
            let total = candidate.instances.count
            if portConflicts.isEmpty && total <= maxOthers {
                if capacity == nil { capacity = candidate.podName }
                continue
            }
            let toDelete = max(total - maxOthers, 1)
            let lruOthers = others.sorted { ($0.lastUsed, $0.id) < ($1.lastUsed, $1.id) }
            let victims = portConflicts + lruOthers.prefix(max(0, toDelete - portConflicts.count))
            guard let lru = victims.map({ ($0.lastUsed, $0.id) }).min(by: <) else { continue }
            let plan = (podName: candidate.podName, victims: victims.map(\.id), lru: lru)
            if let best = bestPlan {
                let better = plan.victims.count != best.victims.count
                    ? plan.victims.count < best.victims.count
                    : (plan.lru != best.lru ? plan.lru < best.lru : plan.podName < best.podName)
                if better { bestPlan = plan }
            } else {
                bestPlan = plan
            }
        }
        if let capacity { return .warm(podName: capacity, victims: []) }
        if let bestPlan { return .warm(podName: bestPlan.podName, victims: bestPlan.victims) }
        return somePodsNotReady ? .wait : .create
    }
}
