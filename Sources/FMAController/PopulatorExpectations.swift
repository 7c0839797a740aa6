import FMAKubeModel

/// What the populator just did to one (node, LauncherConfig) pair and has not yet seen in its
/// cache: Pods it created (must appear) and Pods it deleted (must vanish or show their
/// deletion), so that a cache a moment behind never makes it create or delete twice. After
/// `timeout` since the last change it stops trusting the cache and lists from the API server.
struct PopulatorExpectations: Sendable {
    enum Verdict: Equatable {
        /// The cache shows everything done: act on it.
        case satisfied
        /// Not yet: look again when the cache changes (or soon).
        case waiting
        /// Waited `timeout` in vain: list from the API server, act on that, start afresh.
        case timedOut
    }

    private struct Pending {
        var created: Set<String> = []
        var deleted: Set<String> = []
        var deadline: ContinuousClock.Instant
    }

    let timeout: Duration
    private var pending: [PopulatorKey.Pair: Pending] = [:]

    init(timeout: Duration) {
        self.timeout = timeout
    }

    mutating func created(_ uid: String, for pair: PopulatorKey.Pair, now: ContinuousClock.Instant = .now) {
        pending[pair, default: Pending(deadline: now)].created.insert(uid)
        pending[pair]?.deadline = now + timeout
    }

    mutating func deleted(_ uid: String, for pair: PopulatorKey.Pair, now: ContinuousClock.Instant = .now) {
        pending[pair, default: Pending(deadline: now)].deleted.insert(uid)
        pending[pair]?.deadline = now + timeout
    }

    /// Checks `pair` against the cached Pods; a satisfied or timed-out pair is forgotten.
    mutating func check(_ pair: PopulatorKey.Pair, cached pods: [Pod], now: ContinuousClock.Instant = .now) -> Verdict {
        guard let entry = pending[pair] else { return .satisfied }
        let present = Dictionary(pods.map { ($0.metadata.uid, $0.metadata.deletionTimestamp != nil) }, uniquingKeysWith: { a, _ in a })
        let seen = entry.created.allSatisfy { present[$0] != nil }
        let gone = entry.deleted.allSatisfy { present[$0] == nil || present[$0] == true }
        if seen && gone {
            pending[pair] = nil
            return .satisfied
        }
        if now >= entry.deadline {
            pending[pair] = nil
            return .timedOut
        }
        return .waiting
    }

    mutating func forget(_ pair: PopulatorKey.Pair) {
        pending[pair] = nil
    }
}
