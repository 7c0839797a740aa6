import FMAKube
import FMAKubeModel

/// Informer events → keys. A launcher Pod touches its own pair; a node, a policy or a config
/// touches every pair it can change; statuses follow their objects.
extension LauncherPopulator {
    func addHandlers() {
        pods.addHandler { [self] event in
            if let pair = Self.pair(of: event.object) { queue.add(.launchers(pair)) }
        }
        nodes.addHandler { [self] event in
            switch event {
            case .added(let node), .deleted(let node):
                enqueueNode(node.metadata.name)
            case .updated(let old, let new):
                // Heartbeats change neither: only labels and allocatable decide selection.
                guard old.metadata.labels != new.metadata.labels || old.status.json["allocatable"] != new.status.json["allocatable"] else { return }
                enqueueNode(new.metadata.name)
            }
        }
        policies.addHandler { [self] event in
            switch event {
            case .added(let policy):
                queue.add(.policyStatus(policy.metadata.name))
                enqueueConfigs(Set(PopulationPolicy(policy).counts.keys))
            case .updated(let old, let new):
                // A status write changes neither the generation nor the labels.
                guard old.metadata.generation != new.metadata.generation || old.spec != new.spec else { return }
                queue.add(.policyStatus(new.metadata.name))
                enqueueConfigs(Set(PopulationPolicy(old).counts.keys).union(PopulationPolicy(new).counts.keys))
            case .deleted(let policy):
                enqueueConfigs(Set(PopulationPolicy(policy).counts.keys))
            }
        }
        configs.addHandler { [self] event in
            let config = event.object
            if case .updated(let old, let new) = event, old.metadata.generation == new.metadata.generation, old.spec == new.spec { return }
            let name = config.metadata.name
            queue.add(.configStatus(name))
            enqueueConfigs([name])
            for policy in currentPolicies() where policy.counts[name] != nil {
                queue.add(.policyStatus(policy.name))
            }
        }
    }

    /// Every pair of `node`: the configs any policy lists and those of its launchers.
    func enqueueNode(_ node: String) {
        var configs = listedConfigs()
        for pod in pods.cache.byIndex(Self.nodeIndex, node) {
            if let pair = Self.pair(of: pod) { configs.insert(pair.config) }
        }
        for config in configs { queue.add(.launchers(.init(node: node, config: config))) }
    }

    /// Every pair of these configs: on each node, and wherever a launcher of them runs.
    func enqueueConfigs(_ names: Set<String>) {
        guard !names.isEmpty else { return }
        for node in nodes.cache.list() {
            for config in names { queue.add(.launchers(.init(node: node.metadata.name, config: config))) }
        }
        for pod in pods.cache.list() {
            if let pair = Self.pair(of: pod), names.contains(pair.config) { queue.add(.launchers(pair)) }
        }
    }

    /// Once the caches have synced: every status, every pair any policy or launcher names.
    func enqueueEverything() {
        for config in configs.cache.list() { queue.add(.configStatus(config.metadata.name)) }
        for policy in policies.cache.list() { queue.add(.policyStatus(policy.metadata.name)) }
        enqueueConfigs(listedConfigs())
        for pod in pods.cache.list() {
            if let pair = Self.pair(of: pod) { queue.add(.launchers(pair)) }
        }
    }
}
