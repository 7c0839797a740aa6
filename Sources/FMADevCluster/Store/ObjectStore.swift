public import FMAJSON
public import FMAKubeModel
import Synchronization

/// What a write hands to its caller's check before storing: the new object and the stored
/// one; the check refuses the write (throws) or answers what to store.
public typealias StoreCheck = (_ new: JSONObject, _ stored: JSONObject) throws(KubeStatus) -> JSONObject

/// The cluster's objects, in memory: what etcd and the API server's registry are to a real
/// cluster. Every change gets the next resource version and goes into a bounded history, so
/// a watch can start from any recent resource version and sees every later change once, in
/// order. All methods are synchronous and quick; the HTTP layer and the in-process
/// controllers (scheduler, kubelet, ReplicaSet controller) call them directly.
public final class ObjectStore: Sendable {
    private let state: Mutex<StoreState>
    private let watchBufferLimit: Int

    /// - Parameters:
    ///   - kinds: the kinds served; others answer 404.
    ///   - historyLimit: how many changes are kept for watches that start in the past; a watch
    ///     from before the oldest gets 410 Expired.
    ///   - historyByteLimit: the most JSON text those changes may hold (each counted at its
    ///     object's size), so that a burst of large objects cannot hold memory for long.
    ///   - watchBufferLimit: events a watch may have undelivered before it is ended.
    public init(kinds: [ResourceKind] = ResourceKind.all, historyLimit: Int = 50_000, historyByteLimit: Int = 16 << 20,
                watchBufferLimit: Int = 100_000, admission: Admission = Admission()) {
        state = Mutex(StoreState(kinds: kinds, historyLimit: historyLimit, historyByteLimit: historyByteLimit, admission: admission))
        self.watchBufferLimit = watchBufferLimit
        restoreWarnings = []
        restoredObjects = 0
    }

    /// A store kept in `directory` (`StoreLog`): restored from what is there, every change
    /// written there. Throws when the files cannot be read or created.
    public init(directory: String, kinds: [ResourceKind] = ResourceKind.all, historyLimit: Int = 50_000, historyByteLimit: Int = 16 << 20,
                watchBufferLimit: Int = 100_000, admission: Admission = Admission(), compactAfterBytes: Int = 64 << 20) throws {
        let (log, restored) = try StoreLog.open(directory: directory, kinds: kinds, compactAfterBytes: compactAfterBytes)
        state = Mutex(StoreState(kinds: kinds, historyLimit: historyLimit, historyByteLimit: historyByteLimit, admission: admission,
                                 log: log, restored: restored))
        self.watchBufferLimit = watchBufferLimit
        restoreWarnings = restored.warnings
        restoredObjects = restored.objects.count
    }

    /// What restoring from disk met (a last line cut short by a crash), for the log.
    public let restoreWarnings: [String]
    /// How many objects were restored from disk.
    public let restoredObjects: Int

    /// Syncs the store's files to disk (at shutdown).
    public func sync() {
        state.withLock { $0.syncLog() }
    }

    /// The first error writing the store's files: from then on, changes are kept in memory only.
    public var persistenceFailure: String? {
        state.withLock { $0.logFailure }
    }

    /// How many objects of `kind` the store holds (all namespaces).
    public func count(_ kind: ResourceKind) -> Int {
        state.withLock { $0.count(kind) }
    }

    /// The resource version of the latest change.
    public var resourceVersion: Int64 {
        state.withLock { $0.resourceVersion }
    }

    public func get(_ kind: ResourceKind, namespace: String, name: String) throws(KubeStatus) -> JSONObject {
        try locked { (s) throws(KubeStatus) -> JSONObject in try s.get(kind, namespace: namespace, name: name) }
    }

    public func list(
        _ kind: ResourceKind, namespace: String?, labels: LabelSelector = .init(), fields: FieldSelector = .init(),
        limit: Int? = nil, continueToken: String? = nil
    ) throws(KubeStatus) -> StoreList {
        try locked { (s) throws(KubeStatus) -> StoreList in
            try s.list(kind, namespace: namespace, labels: labels, fields: fields, limit: limit, continueToken: continueToken)
        }
    }

    public func create(_ kind: ResourceKind, namespace: String, _ object: JSONObject, dryRun: Bool = false) throws(KubeStatus) -> JSONObject {
        try locked { (s) throws(KubeStatus) -> JSONObject in try s.create(kind, namespace: namespace, object, dryRun: dryRun) }
    }

    /// Replaces the object; `check` sees the new object and the stored one before anything
    /// changes, and may refuse it or answer what to store instead.
    public func update(
        _ kind: ResourceKind, namespace: String, name: String, _ object: JSONObject, subresource: String? = nil, dryRun: Bool = false,
        check: StoreCheck = { new, _ in new }
    ) throws(KubeStatus) -> JSONObject {
        try locked { (s) throws(KubeStatus) -> JSONObject in
            try s.update(kind, namespace: namespace, name: name, object, subresource: subresource, dryRun: dryRun, check: check)
        }
    }

    /// Applies `patch` to the object; through `view`, to the object as the view shows it.
    /// `check` sees the patched object and the stored one (as `view` shows them) before it is
    /// stored, and may refuse it or answer what to store instead.
    public func patch(
        _ kind: ResourceKind, namespace: String, name: String, _ patch: StorePatch, subresource: String? = nil, dryRun: Bool = false,
        view: KindView? = nil, check: StoreCheck = { new, _ in new }
    ) throws(KubeStatus) -> JSONObject {
        try locked { (s) throws(KubeStatus) -> JSONObject in
            try s.patch(kind, namespace: namespace, name: name, patch, subresource: subresource, dryRun: dryRun, view: view, check: check)
        }
    }

    /// Reads the object, lets `change` edit it and stores the result, all under the store's
    /// lock, so nothing else can change the object in between (for in-process controllers).
    public func mutate(
        _ kind: ResourceKind, namespace: String, name: String, subresource: String? = nil,
        _ change: (inout JSONObject) throws(KubeStatus) -> Void
    ) throws(KubeStatus) -> JSONObject {
        try locked { (s) throws(KubeStatus) -> JSONObject in
            var object = try s.get(kind, namespace: namespace, name: name)
            try change(&object)
            return try s.update(kind, namespace: namespace, name: name, object, subresource: subresource, dryRun: false)
        }
    }

    public func delete(_ kind: ResourceKind, namespace: String, name: String, options: DeleteOptions = .init()) throws(KubeStatus) -> StoreDeleteResult {
        try locked { (s) throws(KubeStatus) -> StoreDeleteResult in try s.delete(kind, namespace: namespace, name: name, options: options) }
    }

    /// Deletes every matching object; answers what was deleted or started deleting.
    public func deleteCollection(
        _ kind: ResourceKind, namespace: String?, labels: LabelSelector = .init(), fields: FieldSelector = .init(), options: DeleteOptions = .init()
    ) throws(KubeStatus) -> [JSONObject] {
        try locked { (s) throws(KubeStatus) -> [JSONObject] in
            let items = try s.list(kind, namespace: namespace, labels: labels, fields: fields, limit: nil, continueToken: nil).items
            var results: [JSONObject] = []
            for item in items {
                let meta = ObjectMeta(json: item["metadata"]?.object ?? JSONObject())
                if let result = try? s.delete(kind, namespace: meta.namespace, name: meta.name, options: options) {
                    results.append(result.object)
                }
            }
            return results
        }
    }

    /// Starts a watch. From `nil` or `"0"`: an ADDED for every current object, then changes.
    /// From a resource version: the changes after it (410 Expired when it is older than the
    /// history). An unparsable version is a 400.
    public func watch(
        _ kind: ResourceKind, namespace: String?, labels: LabelSelector = .init(), fields: FieldSelector = .init(), from resourceVersion: String?
    ) throws(KubeStatus) -> StoreWatch {
        let buffer = WatchBuffer(limit: watchBufferLimit)
        let id = try locked { (s) throws(KubeStatus) -> Int in
            try s.addWatcher(kind, namespace: namespace, labels: labels, fields: fields, from: resourceVersion, buffer: buffer)
        }
        return StoreWatch(buffer: buffer, onCancel: { [weak self] in self?.removeWatcher(id) })
    }

    /// Runs `body` under the lock, then ends the watches it retired (waking their consumers
    /// outside the lock).
    private func locked<R, E: Error>(_ body: (inout StoreState) throws(E) -> R) throws(E) -> R {
        let (result, ended) = state.withLock { (s) -> (Result<R, E>, [WatchBuffer]) in
            let result: Result<R, E>
            do throws(E) {
                result = .success(try body(&s))
            } catch {
                result = .failure(error)
            }
            return (result, s.takeEndedWatches())
        }
        for buffer in ended { buffer.finish() }
        return try result.get()
    }

    private func removeWatcher(_ id: Int) {
        state.withLock { $0.removeWatcher(id) }
    }

    /// The number of open watches (for metrics).
    public var watchCount: Int {
        state.withLock { $0.watchers.count }
    }

    /// Sends every watch a BOOKMARK at the current resource version, after the events it has.
    public func emitBookmarks() {
        locked { $0.emitBookmarks() }
    }

    /// Ends every watch (at shutdown).
    public func finishWatches() {
        locked { $0.finishWatches() }
    }
}
