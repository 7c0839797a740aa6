import FMAJSON
import FMAKubeModel

/// A watch on the store: the events after the point it started from, in resource-version
/// order. The sequence ends when the watch is cancelled, when the store stops, or when the
/// consumer falls more than the store's per-watch buffer behind (it then re-watches from the
/// last resource version it saw, as any client of a real API server does). Iterate it event
/// by event, or take what is pending at once with `nextBatch()`.
public final class StoreWatch: AsyncSequence, Sendable {
    public typealias Element = StoreEvent

    let buffer: WatchBuffer
    private let onCancel: @Sendable () -> Void

    init(buffer: WatchBuffer, onCancel: @escaping @Sendable () -> Void) {
        self.buffer = buffer
        self.onCancel = onCancel
    }

    deinit {
        cancel()
    }

    /// Every event pending now (waiting for one if none is); `nil` at the end.
    public func nextBatch() async -> [StoreEvent]? {
        await buffer.next()
    }

    /// Stops the watch; the sequence ends after the events already taken.
    public func cancel() {
        buffer.finish()
        onCancel()
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let watch: StoreWatch
        var pending: [StoreEvent] = []
        var index = 0

        public mutating func next() async -> StoreEvent? {
            if index == pending.count {
                guard let batch = await watch.nextBatch() else { return nil }
                pending = batch
                index = 0
            }
            defer { index += 1 }
            return pending[index]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(watch: self)
    }
}

/// A registered watcher: its filter and where its events go.
struct Watcher {
    let id: Int
    let kind: ResourceKind
    let namespace: String?
    let labels: LabelSelector
    let fields: FieldSelector
    let buffer: WatchBuffer

    func accepts(_ object: JSONObjectRef) -> Bool {
        if let namespace, !namespace.isEmpty, object.namespace != namespace { return false }
        return labels.matches(object.labels) && fields.matches(object.json)
    }

    /// The event this watcher sees for `change`: a modification that moves an object into
    /// the filter is an ADDED, one that moves it out a DELETED. The event carries `shared`,
    /// when given, as its object (serialized once for every watcher it goes to).
    func event(for change: StoreChange, shared: SerializedObject? = nil) -> StoreEvent? {
        func event(_ type: WatchEventType) -> StoreEvent {
            shared.map { StoreEvent(type: type, object: $0) } ?? StoreEvent(type: type, object: change.object.json)
        }
        let newMatches = accepts(change.object)
        switch change.type {
        case .added, .deleted, .bookmark, .error:
            return newMatches ? event(change.type) : nil
        case .modified:
            let oldMatches = change.old.map(accepts) ?? false
            switch (oldMatches, newMatches) {
            case (true, true): return event(.modified)
            case (false, true): return event(.added)
            case (true, false): return event(.deleted)
            case (false, false): return nil
            }
        }
    }

    /// Delivers an event; `false` when the consumer is too far behind or gone.
    func deliver(_ event: StoreEvent) -> Bool {
        buffer.append(event)
    }
}

/// A stored object with the fields filters look at pulled out once.
struct JSONObjectRef: Sendable {
    let json: JSONObject
    let namespace: String
    let labels: [String: String]

    init(_ json: JSONObject) {
        self.json = json
        let metadata = json["metadata"]?.object
        namespace = metadata?["namespace"]?.string ?? ""
        labels = metadata?["labels"]?.stringMap ?? [:]
    }
}

/// A change in the store's history.
struct StoreChange: Sendable {
    let resourceVersion: Int64
    let kind: ResourceKind
    let type: WatchEventType
    let object: JSONObjectRef
    /// The object before a modification (for filter transitions).
    let old: JSONObjectRef?
    /// What the history's byte bound counts: the object's JSON text length, twice for a
    /// modification (the version before it is kept too).
    let bytes: Int
}
