import FMAJSON
import FMAKube
import FMAKubeModel
import Foundation

/// One (node, LauncherConfig) pair brought to what the policies want (FMA's §5.5 steps).
extension LauncherPopulator {
    func reconcileLaunchers(_ pair: PopulatorKey.Pair) async throws -> Outcome {
        let template = try? template(pair.config)?.get()
        var launchers = pods.cache.byIndex(Self.pairIndex, Self.indexValue(pair))
        let now = Date()
        // The phase metric first, whatever happens next.
        let (phases, nextStuck) = publishPhases(pair, launchers, templateHash: template?.templateHash ?? "", now: now)
        let target = PopulationTarget.of(node: nodes.cache.get(pair.node), config: pair.config,
                                         policies: currentPolicies(), templateHash: template?.templateHash)
        let wanted: Int
        switch target {
        case .handsOff:
            return .done
        case .none:
            wanted = 0
        case .count(let count, _):
            wanted = count
        }
        switch expectations.withLockedValue({ $0.check(pair, cached: launchers) }) {
        case .satisfied:
            break
        case .waiting:
            return .retry
        case .timedOut:
            logger.info("the cache did not show the populator's last changes in time; listing launchers from the API server",
                        metadata: ["node": "\(pair.node)", "launcherconfig": "\(pair.config)"])
            launchers = try await client.listAll(Pod.self, namespace: options.namespace, labelSelector: Self.selector(pair)).items
        }

        // Sort: being deleted, bound, made from another template (stale), current.
        var bound = 0
        var deleting = 0
        var stale: [Pod] = []
        var current: [Pod] = []
        for pod in launchers {
            if pod.metadata.deletionTimestamp != nil {
                deleting += 1
            } else if Binding(pod) != nil {
                bound += 1
            } else if template == nil || pod.metadata.annotation(DualPods.Annotation.launcherTemplateHash) != template?.templateHash {
                stale.append(pod)
            } else {
                current.append(pod)
            }
        }
        var deleted = 0
        var staleKept = 0
        for pod in stale {
            if try await deleteLauncher(pod, pair: pair, why: template == nil ? "no policy wants launchers of this config on this node" : "made from an older template of its LauncherConfig") {
                deleted += 1
            } else {
                staleKept += 1
            }
        }
        let excess = bound + current.count + staleKept - wanted
        var kept = current
        if excess > 0 {
            // Not-Ready launchers go first, the newest of them first: the warm ones stay.
            let order = current.sorted { a, b in
                if a.isReady != b.isReady { return !a.isReady }
                return (a.metadata.creationTimestamp ?? "") > (b.metadata.creationTimestamp ?? "")
            }
            var removed: Set<String> = []
            for pod in order where removed.count < excess {
                if try await deleteLauncher(pod, pair: pair, why: "more launchers than the policies ask for") {
                    deleted += 1
                    removed.insert(pod.metadata.uid)
                }
            }
            kept.removeAll { removed.contains($0.metadata.uid) }
        }
        if template != nil {
            // Phases as published (a launcher listed afresh after a timeout is judged now).
            try await reportStuck(kept) { phases[$0.metadata.uid] ?? LauncherPhase.of($0, templateHash: template?.templateHash ?? "", thresholds: options.thresholds, now: now).phase }
        }
        if deleted > 0 || deleting > 0 {
            // Create only once the deleted launchers are gone (their deletion re-enqueues this pair).
            return .retry
        }
        if let template, excess < 0 {
            for _ in 0..<(-excess) {
                let (pod, _) = template.specialized(toNode: pair.node)
                let made = try await client.create(pod, namespace: options.namespace)
                expectations.withLockedValue { $0.created(made.metadata.uid, for: pair) }
                metrics.launcherCreated(config: pair.config)
                logger.info("launcher created", metadata: ["pod": "\(made.metadata.name)", "node": "\(pair.node)", "launcherconfig": "\(pair.config)",
                                                           "wanted": "\(wanted)"])
            }
        }
        if let nextStuck { return .retryAfter(.seconds(max(0.001, nextStuck.timeIntervalSince(now)))) }
        return .done
    }

    /// Deletes an unbound launcher if it is still what the cache showed (UID and
    /// resourceVersion). True when it is deleted or already gone; false when it changed
    /// meanwhile (e.g. it was just bound), so it stays.
    private func deleteLauncher(_ pod: Pod, pair: PopulatorKey.Pair, why: String) async throws -> Bool {
        let options = DeleteOptions(preconditionUID: pod.metadata.uid, preconditionResourceVersion: pod.metadata.resourceVersion)
        do {
            try await client.delete(Pod.self, name: pod.metadata.name, namespace: self.options.namespace, options: options)
        } catch {
            if error.isConflict { return false }
            // Not found: gone already.
            guard error.isNotFound else { throw error }
        }
        expectations.withLockedValue { $0.deleted(pod.metadata.uid, for: pair) }
        metrics.launcherDeleted(config: pair.config)
        logger.info("launcher deleted", metadata: ["pod": "\(pod.metadata.name)", "node": "\(pair.node)", "launcherconfig": "\(pair.config)", "why": "\(why)"])
        return true
    }

    /// Labels stuck launchers `launcher-stuck=true` (with one Warning Event when they turn
    /// stuck) and takes the label off those that recovered.
    private func reportStuck(_ launchers: [Pod], phase phaseOf: (Pod) -> LauncherPhase) async throws {
        for pod in launchers {
            let phase = phaseOf(pod)
            let labeled = pod.metadata.label(DualPods.Label.launcherStuck) == "true"
            guard phase.isStuck != labeled else { continue }
            if phase.isStuck {
                events.post(pod, type: .warning, reason: "LauncherStuck", message: "Launcher is stuck (\(phase.rawValue)); leaving it in place for investigation")
                logger.warning("launcher stuck", metadata: ["pod": "\(pod.metadata.name)", "phase": "\(phase.rawValue)"])
            } else {
                logger.info("launcher no longer stuck", metadata: ["pod": "\(pod.metadata.name)"])
            }
            let patch: JSONValue = ["metadata": ["labels": [.init(stringLiteral: DualPods.Label.launcherStuck): phase.isStuck ? "true" : .null]]]
            do {
                let _: Pod = try await client.patch(name: pod.metadata.name, namespace: options.namespace, .merge(patch))
            } catch {
                guard error.isNotFound else { throw error }
            }
        }
    }

    /// Counts the pair's launchers by phase into `fma_launcher_pod_count`; returns each one's
    /// phase (by UID) and the first instant one of them turns stuck, if one will.
    private func publishPhases(_ pair: PopulatorKey.Pair, _ launchers: [Pod], templateHash: String, now: Date) -> ([String: LauncherPhase], Date?) {
        var counts: [LauncherPhase: Int] = [:]
        var phases: [String: LauncherPhase] = [:]
        var next: Date?
        for pod in launchers {
            let (phase, at) = LauncherPhase.of(pod, templateHash: templateHash, thresholds: options.thresholds, now: now)
            counts[phase, default: 0] += 1
            phases[pod.metadata.uid] = phase
            if let at { next = min(next ?? at, at) }
        }
        metrics.launchers(config: pair.config, node: pair.node, counts: counts, configExists: configs.cache.get(namespace: options.namespace, name: pair.config) != nil)
        return (phases, next)
    }

    /// FMA's selector of one pair's launcher Pods.
    static func selector(_ pair: PopulatorKey.Pair) -> LabelSelector {
        LabelSelector(matchLabels: [DualPods.Label.component: DualPods.Label.componentLauncher,
                                    DualPods.Label.launcherConfigName: pair.config, DualPods.Label.nodeName: pair.node])
    }
}
