import FMAWire

/// The last events with their revisions, so that a watcher can resume where it left off.
struct EventRing: Sendable {
    let capacity: Int
    private(set) var events: [Fma_V1_InstanceEvent] = []
    private var start = 0

    init(capacity: Int) {
        self.capacity = capacity
        events.reserveCapacity(capacity)
    }

    mutating func append(_ event: Fma_V1_InstanceEvent) {
        if events.count < capacity {
            events.append(event)
        } else {
            events[start] = event
            start = (start + 1) % capacity
        }
    }

    /// The retained events in order.
    var ordered: [Fma_V1_InstanceEvent] {
        Array(events[start...] + events[..<start])
    }

    /// The events after `revision`, or nil when some of them are no longer retained.
    func events(after revision: UInt64, current: UInt64) -> [Fma_V1_InstanceEvent]? {
        let oldestRetained = ordered.first?.revision ?? (current + 1)
        // Revisions are consecutive: every revision in (revision, current] must be retained.
        if revision < current, revision + 1 < oldestRetained { return nil }
        return ordered.filter { $0.revision > revision }
    }
}
