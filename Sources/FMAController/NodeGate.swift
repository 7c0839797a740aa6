import NIOConcurrencyHelpers

/// Lets one worker at a time into a node. A key whose node is busy is parked, not waited for,
/// so workers stay free for other nodes; the parked keys go back on the queue when the node
/// is left.
final class NodeGate: Sendable {
    private struct State {
        var busy: Set<String> = []
        var parked: [String: Set<WorkKey>] = [:]
    }

    private let state = NIOLockedValueBox(State())

    /// Enters `key`'s node; false (and the key parked) when another worker is in it.
    func enter(_ key: WorkKey) -> Bool {
        state.withLockedValue { state in
            if state.busy.insert(key.node).inserted { return true }
            state.parked[key.node, default: []].insert(key)
            return false
        }
    }

    /// Leaves the node; returns the keys parked meanwhile.
    func leave(_ node: String) -> Set<WorkKey> {
        state.withLockedValue { state in
            state.busy.remove(node)
            return state.parked.removeValue(forKey: node) ?? []
        }
    }
}
