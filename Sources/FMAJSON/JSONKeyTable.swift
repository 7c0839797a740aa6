import Synchronization

/// Object keys shared between parsed documents: a key longer than Swift keeps inline
/// (15 UTF-8 bytes) is a heap string, and a cache of Kubernetes objects repeats the same few
/// hundred (`creationTimestamp`, `ownerReferences`, `dual-pods.llm-d.ai/…`) in every object.
/// Interned, each is stored once. Bounded: past `capacity` distinct keys, new ones are kept
/// as parsed (still correct, just not shared), so hostile input cannot grow it without end.
final class JSONKeyTable: Sendable {
    static let shared = JSONKeyTable(capacity: 8192)

    /// Longer keys are rare and rarely repeated; they are not interned.
    static let longestInterned = 96

    private let capacity: Int
    private let keys = Mutex<Set<String>>([])

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The stored copy of `key` when there is one (storing it if there is room), else `key`.
    func intern(_ key: String) -> String {
        let length = key.utf8.count
        guard length > 15, length <= Self.longestInterned else { return key }
        return keys.withLock { keys in
            // One hash while there is room (the usual case): insert hands back the stored copy.
            if keys.count < capacity { return keys.insert(key).memberAfterInsert }
            return keys.firstIndex(of: key).map { keys[$0] } ?? key
        }
    }

    var count: Int { keys.withLock { $0.count } }
}
