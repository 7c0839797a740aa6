/// The keys added and not yet being processed, with when each was first added, and how many
/// there are per node: FMA's node-local queue, as its `fma_dpc_innerqueue_*` metrics count it
/// (a key added again while it waits is not a new add).
struct PendingKeys: Sendable {
    private var since: [WorkKey: ContinuousClock.Instant] = [:]
    private var perNode: [String: Int] = [:]

    /// Records `key` as waiting; the node's depth when it is new, nil when it was waiting already.
    mutating func add(_ key: WorkKey, at now: ContinuousClock.Instant) -> Int? {
        guard since[key] == nil else { return nil }
        since[key] = now
        perNode[key.node, default: 0] += 1
        return perNode[key.node]
    }

    /// `key` is being processed: when it was first added (nil if it was not waiting) and the
    /// node's depth now.
    mutating func start(_ key: WorkKey) -> (since: ContinuousClock.Instant, depth: Int)? {
        guard let added = since.removeValue(forKey: key) else { return nil }
        let depth = (perNode[key.node] ?? 1) - 1
        perNode[key.node] = depth == 0 ? nil : depth
        return (added, depth)
    }
}
