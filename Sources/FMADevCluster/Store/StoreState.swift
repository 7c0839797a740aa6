import FMAJSON
import FMAKubeModel

/// Where an object lives: its kind and `namespace/name` key.
struct ObjectID: Hashable, Sendable {
    let kind: ResourceKind
    let key: String
}

/// The store's data and rules, guarded by `ObjectStore`'s lock. Each method is one atomic
/// API operation.
struct StoreState: ~Copyable {
    let kinds: Set<ResourceKind>
    let historyLimit: Int
    /// The most JSON text the history may hold (each change counted at its object's size).
    let historyByteLimit: Int
    let admission: Admission

    private(set) var resourceVersion: Int64 = 0
    private var objects: [ResourceKind: [String: JSONObject]] = [:]
    /// owner uid → the objects that name it in `ownerReferences` (for garbage collection).
    private var dependents: [String: Set<ObjectID>] = [:]
    private var history: [StoreChange] = []
    private var historyStart = 0
    /// The bytes of the changes in `history[historyStart...]`.
    private var historyBytes = 0
    /// Changes up to this version have left the history.
    private var historyFloor: Int64 = 0
    private(set) var watchers: [Int: Watcher] = [:]
    private var watchersByKind: [ResourceKind: Set<Int>] = [:]
    private var nextWatcherID = 1
    /// Watches retired under the lock, to be finished once it is released.
    private var endedWatches: [WatchBuffer] = []
    /// Where every change is written, when the store is kept on disk.
    private let log: StoreLog?

    /// A store holding `restored` (what `log` held), with the usual namespaces added when
    /// missing; without a log, an empty store in memory.
    init(kinds: [ResourceKind], historyLimit: Int, historyByteLimit: Int = 16 << 20, admission: Admission,
         log: StoreLog? = nil, restored: StoreLog.Restored = .init()) {
        self.kinds = Set(kinds)
        self.historyLimit = max(historyLimit, 1)
        self.historyByteLimit = max(historyByteLimit, 1)
        self.admission = admission
        self.log = log
        for (kind, object) in restored.objects where self.kinds.contains(kind) {
            let meta = ObjectMeta(json: object["metadata"]?.object ?? JSONObject())
            let id = ObjectID(kind: kind, key: key(kind, meta.namespace, meta.name))
            objects[kind, default: [:]][id.key] = object
            indexOwners(of: object, id: id, old: nil)
        }
        // Watches from before the restart have nothing to resume from: 410, as after etcd's compaction.
        resourceVersion = restored.resourceVersion
        historyFloor = restored.resourceVersion
        if self.kinds.contains(.namespace) {
            for name in ["default", "kube-system", "kube-public", "kube-node-lease"] where objects[.namespace]?[name] == nil {
                _ = try? create(.namespace, namespace: "", ["metadata": ["name": .string(name)]], dryRun: false)
            }
        }
    }

    /// Syncs the store's log to disk (at shutdown; changes are synced within a second anyway).
    func syncLog() {
        log?.sync()
    }

    /// The store's log's first write error, if any.
    var logFailure: String? { log?.failure }

    // MARK: Reads

    func count(_ kind: ResourceKind) -> Int {
        objects[kind]?.count ?? 0
    }

    func get(_ kind: ResourceKind, namespace: String, name: String) throws(KubeStatus) -> JSONObject {
        try checkServed(kind)
        guard let object = objects[kind]?[key(kind, namespace, name)] else {
            throw KubeStatus.notFound(kind, name: name)
        }
        return object
    }

    func list(
        _ kind: ResourceKind, namespace: String?, labels: LabelSelector, fields: FieldSelector, limit: Int?, continueToken: String?
    ) throws(KubeStatus) -> StoreList {
        try checkServed(kind)
        var after: String?
        // Every page of a list shows the objects as of the first page's resource version (a
        // real API server reads later pages from that etcd revision), so an informer that
        // watches from the list's version misses no change made while it paged.
        var snapshot: Int64?
        if let continueToken, !continueToken.isEmpty {
            guard let (version, key) = Self.decodeContinue(continueToken), version <= resourceVersion else {
                throw KubeStatus.badRequest("invalid continue token \"\(continueToken)\"")
            }
            guard version >= historyFloor else {
                throw KubeStatus.gone("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
            }
            after = key
            snapshot = version
        }
        let namespacePrefix = kind.namespaced && !(namespace ?? "").isEmpty ? namespace! + "/" : nil
        var matching: [(String, JSONObject)] = []
        for (key, object) in snapshot.map({ objects(of: kind, at: $0) }) ?? objects[kind] ?? [:] {
            if let namespacePrefix, !key.hasPrefix(namespacePrefix) { continue }
            if let after, key <= after { continue }
            if labels.isEverything || labels.matches(JSONObjectRef(object).labels), fields.matches(object) {
                matching.append((key, object))
            }
        }
        matching.sort { $0.0 < $1.0 }
        var token: String?
        var remaining: Int?
        if let limit, limit > 0, matching.count > limit {
            remaining = matching.count - limit
            matching.removeLast(matching.count - limit)
            token = Self.encodeContinue(version: snapshot ?? resourceVersion, key: matching.last!.0)
        }
        return StoreList(items: matching.map(\.1), resourceVersion: String(snapshot ?? resourceVersion), continueToken: token, remainingItemCount: remaining)
    }

    /// The objects of `kind` as they were at `version` (which the history must still cover):
    /// the current ones, with each change made since undone.
    private func objects(of kind: ResourceKind, at version: Int64) -> [String: JSONObject] {
        var result = objects[kind] ?? [:]
        var undone = Set<String>()
        for change in history[historyStart...] where change.kind == kind && change.resourceVersion > version {
            let name = change.object.json[path: ["metadata", "name"]]?.string ?? ""
            let key = key(kind, change.object.namespace, name)
            // The first change after `version` knows the object's state at `version`.
            guard undone.insert(key).inserted else { continue }
            result[key] = change.type == .added ? nil : change.old?.json
        }
        return result
    }

    // MARK: Writes

    mutating func create(_ kind: ResourceKind, namespace: String, _ input: JSONObject, dryRun: Bool) throws(KubeStatus) -> JSONObject {
        try checkServed(kind)
        var object = input
        try checkTypeMeta(kind, &object)
        var meta = ObjectMeta(json: object["metadata"]?.object ?? JSONObject())
        let ns = try resolveNamespace(kind, requested: namespace, inBody: meta.namespace)
        if kind.namespaced {
            meta.namespace = ns
            guard objects[.namespace]?[ns] != nil || !kinds.contains(.namespace) else {
                throw KubeStatus.notFound(.namespace, name: ns)
            }
        } else {
            meta.namespace = ""
        }
        if meta.name.isEmpty {
            guard let prefix = meta.generateName, !prefix.isEmpty else {
                throw KubeStatus.invalid(kind, name: "", causes: [("metadata.name", "Required value: name or generateName is required")])
            }
            var candidate = prefix + Timestamp.randomSuffix()
            for _ in 0..<8 where objects[kind]?[key(kind, ns, candidate)] != nil {
                candidate = prefix + Timestamp.randomSuffix()
            }
            meta.name = candidate
        }
        if objects[kind]?[key(kind, ns, meta.name)] != nil {
            throw KubeStatus.alreadyExists(kind, name: meta.name)
        }
        meta.uid = Timestamp.uid()
        meta.creationTimestamp = Timestamp.now()
        meta.deletionTimestamp = nil
        meta.deletionGracePeriodSeconds = nil
        meta.generation = 1
        meta.resourceVersion = ""
        object["metadata"] = .object(meta.json)
        Defaults.applyOnCreate(kind, &object)
        Defaults.applyOnWrite(kind, &object)
        try admit(kind, object, old: nil)
        if dryRun { return object }
        resourceVersion += 1
        object[path: ["metadata", "resourceVersion"]] = .string(String(resourceVersion))
        let id = ObjectID(kind: kind, key: key(kind, ns, meta.name))
        objects[kind, default: [:]][id.key] = object
        indexOwners(of: object, id: id, old: nil)
        record(kind, .added, object, old: nil)
        // The garbage collector's part for a dependent made after every owner it names went (a
        // controller that acted on a cache not yet showing the deletion): it is deleted at once,
        // as the collector deletes an object none of whose owners exists.
        if !meta.ownerReferences.isEmpty, !meta.ownerReferences.contains(where: { ownerExists($0, namespace: ns) }) {
            _ = try? delete(kind, namespace: ns, name: meta.name, options: DeleteOptions())
            return objects[kind]?[id.key] ?? object
        }
        // The ServiceAccount controller's part: every namespace has its `default` account.
        if kind == .namespace, kinds.contains(.serviceAccount), objects[.serviceAccount]?[key(.serviceAccount, meta.name, "default")] == nil {
            _ = try? create(.serviceAccount, namespace: meta.name, ["metadata": ["name": "default"]], dryRun: false)
        }
        return object
    }

    mutating func update(
        _ kind: ResourceKind, namespace: String, name: String, _ input: JSONObject, subresource: String?, dryRun: Bool,
        check: StoreCheck = { new, _ in new }
    ) throws(KubeStatus) -> JSONObject {
        let old = try get(kind, namespace: namespace, name: name)
        var object = try check(input, old)
        try checkTypeMeta(kind, &object)
        let oldMeta = ObjectMeta(json: old["metadata"]?.object ?? JSONObject())
        var meta = ObjectMeta(json: object["metadata"]?.object ?? JSONObject())
        if !meta.name.isEmpty, meta.name != name {
            throw KubeStatus.badRequest("the name of the object (\(meta.name)) does not match the name on the URL (\(name))")
        }
        if kind.namespaced, !meta.namespace.isEmpty, meta.namespace != oldMeta.namespace {
            throw KubeStatus.badRequest("the namespace of the object (\(meta.namespace)) does not match the namespace on the URL (\(oldMeta.namespace))")
        }
        if !meta.resourceVersion.isEmpty, meta.resourceVersion != oldMeta.resourceVersion {
            throw KubeStatus.conflict(kind, name: name, "the object has been modified; please apply your changes to the latest version and try again")
        }
        if !meta.uid.isEmpty, meta.uid != oldMeta.uid {
            throw KubeStatus.conflict(kind, name: name, "Precondition failed: UID in precondition: \(meta.uid), UID in object meta: \(oldMeta.uid)")
        }
        switch subresource {
        case nil:
            if kind.subresources.contains("status") {
                object["status"] = old["status"]
            }
        case "binding"? where kind == .pod:
            // Only the node changes through a binding (see KubeAPI.bind).
            var merged = old
            merged[path: ["spec", "nodeName"]] = object[path: ["spec", "nodeName"]]
            object = merged
            meta = oldMeta
        case "status"?:
            // Only the status changes through the status subresource.
            var merged = old
            merged["status"] = object["status"]
            object = merged
            meta = oldMeta
        default:
            throw KubeStatus(code: 404, reason: .notFound, message: "\(kind) \"\(name)\" has no subresource \"\(subresource!)\"")
        }
        // What the server owns in metadata stays as it was.
        meta.name = oldMeta.name
        meta.namespace = oldMeta.namespace
        meta.uid = oldMeta.uid
        meta.creationTimestamp = oldMeta.creationTimestamp
        meta.deletionTimestamp = oldMeta.deletionTimestamp
        meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds
        meta.generateName = oldMeta.generateName
        meta.generation = oldMeta.generation
        meta.resourceVersion = oldMeta.resourceVersion
        if oldMeta.deletionTimestamp != nil, !Set(meta.finalizers).isSubset(of: Set(oldMeta.finalizers)) {
            throw KubeStatus.invalid(kind, name: name, causes: [("metadata.finalizers", "Forbidden: no new finalizers can be added if the object is being deleted")])
        }
        object["metadata"] = .object(meta.json)
        Defaults.applyOnWrite(kind, &object)
        if kind == .pod, subresource == nil {
            // After defaulting, as the API server validates: an update need not repeat defaults.
            let causes = PodSpecUpdate.causes(old: old, new: object)
            if !causes.isEmpty { throw KubeStatus.invalid(kind, name: name, causes: causes) }
        }
        if Self.specChanged(old, object) {
            object[path: ["metadata", "generation"]] = .int(oldMeta.generation + 1)
        }
        try admit(kind, object, old: old)
        if object == old { return old }
        if dryRun { return object }
        resourceVersion += 1
        object[path: ["metadata", "resourceVersion"]] = .string(String(resourceVersion))
        let id = ObjectID(kind: kind, key: key(kind, oldMeta.namespace, name))
        if meta.deletionTimestamp != nil, Self.canRemove(kind, object) {
            remove(id, object, old: old)
            return object
        }
        objects[kind, default: [:]][id.key] = object
        indexOwners(of: object, id: id, old: old)
        record(kind, .modified, object, old: old)
        return object
    }

    mutating func patch(
        _ kind: ResourceKind, namespace: String, name: String, _ patch: StorePatch, subresource: String?, dryRun: Bool,
        view: KindView? = nil, check: StoreCheck = { new, _ in new }
    ) throws(KubeStatus) -> JSONObject {
        let current = try get(kind, namespace: namespace, name: name)
        let shown = view?.fromStorage(current) ?? current
        var object = try check(try patch.apply(to: shown), shown)
        if let view {
            let causes = view.validate(object, current)
            if !causes.isEmpty { throw KubeStatus.invalid(view.kind, name: name, causes: causes) }
            object = view.toStorage(object)
        }
        // A patch that does not name a resource version applies to the current one.
        if object[path: ["metadata", "resourceVersion"]] == nil {
            object[path: ["metadata", "resourceVersion"]] = current[path: ["metadata", "resourceVersion"]]
        }
        return try update(kind, namespace: namespace, name: name, object, subresource: subresource, dryRun: dryRun)
    }

    mutating func delete(_ kind: ResourceKind, namespace: String, name: String, options: DeleteOptions) throws(KubeStatus) -> StoreDeleteResult {
        let old = try get(kind, namespace: namespace, name: name)
        let oldMeta = ObjectMeta(json: old["metadata"]?.object ?? JSONObject())
        if let uid = options.preconditionUID, !uid.isEmpty, uid != oldMeta.uid {
            throw KubeStatus.conflict(kind, name: name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(oldMeta.uid)")
        }
        if let rv = options.preconditionResourceVersion, !rv.isEmpty, rv != oldMeta.resourceVersion {
            throw KubeStatus.conflict(kind, name: name, "Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(oldMeta.resourceVersion)")
        }
        var object = old
        var meta = oldMeta
        let grace = Self.gracePeriod(kind, old, requested: options.gracePeriodSeconds)
        if meta.deletionTimestamp == nil {
            meta.deletionTimestamp = Timestamp.now(plusSeconds: grace)
            meta.deletionGracePeriodSeconds = grace
        } else if let current = meta.deletionGracePeriodSeconds, grace < current {
            meta.deletionTimestamp = Timestamp.now(plusSeconds: grace)
            meta.deletionGracePeriodSeconds = grace
        }
        object["metadata"] = .object(meta.json)
        if options.dryRun {
            return Self.canRemove(kind, object) ? .deleted(object) : .pending(object)
        }
        let id = ObjectID(kind: kind, key: key(kind, oldMeta.namespace, name))
        let removable = Self.canRemove(kind, object)
        // Deleting what is already being deleted, with nothing shortened, changes nothing.
        if !removable, object == old { return .pending(old) }
        resourceVersion += 1
        object[path: ["metadata", "resourceVersion"]] = .string(String(resourceVersion))
        if removable {
            remove(id, object, old: old, orphan: options.propagationPolicy == .orphan)
            if kind == .namespace {
                deleteContents(ofNamespace: name)
            }
            return .deleted(object)
        }
        objects[kind, default: [:]][id.key] = object
        record(kind, .modified, object, old: old)
        return .pending(object)
    }

    // MARK: Watches

    mutating func addWatcher(
        _ kind: ResourceKind, namespace: String?, labels: LabelSelector, fields: FieldSelector, from: String?,
        buffer: WatchBuffer
    ) throws(KubeStatus) -> Int {
        try checkServed(kind)
        let watcher = Watcher(id: nextWatcherID, kind: kind, namespace: kind.namespaced ? namespace : nil, labels: labels, fields: fields, buffer: buffer)
        var alive = true
        if let from, !from.isEmpty, from != "0" {
            guard let version = Int64(from), version >= 0 else {
                throw KubeStatus.badRequest("invalid resourceVersion \"\(from)\": not a resource version this server issued")
            }
            if version < historyFloor {
                throw KubeStatus.gone("too old resource version: \(version) (\(historyFloor + 1))")
            }
            for change in history[historyStart...] where change.kind == kind && change.resourceVersion > version {
                if let event = watcher.event(for: change), alive {
                    alive = watcher.deliver(event)
                }
            }
        } else {
            let current = try list(kind, namespace: namespace, labels: labels, fields: fields, limit: nil, continueToken: nil)
            for item in current.items where alive {
                alive = watcher.deliver(StoreEvent(type: .added, object: item))
            }
        }
        nextWatcherID += 1
        if !alive {
            endedWatches.append(buffer)
            return watcher.id
        }
        watchers[watcher.id] = watcher
        watchersByKind[kind, default: []].insert(watcher.id)
        return watcher.id
    }

    mutating func removeWatcher(_ id: Int) {
        guard let watcher = watchers.removeValue(forKey: id) else { return }
        watchersByKind[watcher.kind]?.remove(id)
    }

    mutating func emitBookmarks() {
        var dead: [Int] = []
        for watcher in watchers.values {
            let object: JSONObject = [
                "kind": .string(watcher.kind.kind), "apiVersion": .string(watcher.kind.apiVersion),
                "metadata": ["resourceVersion": .string(String(resourceVersion))],
            ]
            if !watcher.deliver(StoreEvent(type: .bookmark, object: object)) { dead.append(watcher.id) }
        }
        for id in dead { endWatcher(id) }
    }

    mutating func finishWatches() {
        for id in Array(watchers.keys) { endWatcher(id) }
    }

    // MARK: Internals

    private func checkServed(_ kind: ResourceKind) throws(KubeStatus) {
        guard kinds.contains(kind) else {
            throw KubeStatus(code: 404, reason: .notFound, message: "the server could not find the requested resource (\(kind))")
        }
    }

    private func key(_ kind: ResourceKind, _ namespace: String, _ name: String) -> String {
        kind.namespaced ? "\(namespace)/\(name)" : name
    }

    private func checkTypeMeta(_ kind: ResourceKind, _ object: inout JSONObject) throws(KubeStatus) {
        if let apiVersion = object["apiVersion"]?.string, !apiVersion.isEmpty, apiVersion != kind.apiVersion {
            throw KubeStatus.badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(kind.apiVersion))")
        }
        if let k = object["kind"]?.string, !k.isEmpty, k != kind.kind {
            throw KubeStatus.badRequest("the kind in the data (\(k)) does not match the expected kind (\(kind.kind))")
        }
        if let metadata = object["metadata"], metadata.object == nil, !metadata.isNull {
            throw KubeStatus.badRequest("metadata must be an object, got \(metadata.typeName)")
        }
        object["apiVersion"] = .string(kind.apiVersion)
        object["kind"] = .string(kind.kind)
    }

    private func resolveNamespace(_ kind: ResourceKind, requested: String, inBody: String) throws(KubeStatus) -> String {
        guard kind.namespaced else { return "" }
        if !requested.isEmpty, !inBody.isEmpty, requested != inBody {
            throw KubeStatus.badRequest("the namespace of the provided object (\(inBody)) does not match the namespace sent on the request (\(requested))")
        }
        let ns = requested.isEmpty ? inBody : requested
        guard !ns.isEmpty else { throw KubeStatus.badRequest("a namespace is required for \(kind)") }
        return ns
    }

    private func admit(_ kind: ResourceKind, _ object: JSONObject, old: JSONObject?) throws(KubeStatus) {
        guard let validator = admission.validators[kind] else { return }
        let causes = validator(object, old)
        if !causes.isEmpty {
            throw KubeStatus.invalid(kind, name: object[path: ["metadata", "name"]]?.string ?? "", causes: causes)
        }
    }

    /// Whether anything but metadata and status differs (which bumps `metadata.generation`).
    private static func specChanged(_ old: JSONObject, _ new: JSONObject) -> Bool {
        // Member by member: copying both objects to drop two members would copy their storage
        // on every update.
        func counts(_ key: String) -> Bool { key != "metadata" && key != "status" }
        let oldKeys = old.keys.filter(counts)
        return oldKeys.count != new.keys.count(where: counts) || oldKeys.contains { old[$0] != new[$0] }
    }

    /// Seconds a delete waits: a scheduled, unfinished pod gets its grace period (the kubelet
    /// completes the delete); everything else goes at once.
    private static func gracePeriod(_ kind: ResourceKind, _ object: JSONObject, requested: Int64?) -> Int64 {
        guard kind == .pod else { return 0 }
        let nodeName = object[path: ["spec", "nodeName"]]?.string ?? ""
        let phase = object[path: ["status", "phase"]]?.string ?? ""
        if nodeName.isEmpty || phase == "Succeeded" || phase == "Failed" { return 0 }
        return max(0, requested ?? object[path: ["spec", "terminationGracePeriodSeconds"]]?.int ?? 30)
    }

    /// An object being deleted goes once no finalizer is left and, for a pod, its grace
    /// period has been cut to zero (by the kubelet, once its containers are gone).
    private static func canRemove(_ kind: ResourceKind, _ object: JSONObject) -> Bool {
        let meta = ObjectMeta(json: object["metadata"]?.object ?? JSONObject())
        guard meta.deletionTimestamp != nil, meta.finalizers.isEmpty else { return false }
        return kind != .pod || (meta.deletionGracePeriodSeconds ?? 0) == 0
    }

    private mutating func remove(_ id: ObjectID, _ object: JSONObject, old: JSONObject, orphan: Bool = false) {
        objects[id.kind]?[id.key] = nil
        indexOwners(of: nil, id: id, old: old)
        record(id.kind, .deleted, object, old: old)
        let uid = object[path: ["metadata", "uid"]]?.string ?? ""
        guard let owned = dependents.removeValue(forKey: uid) else { return }
        for dependent in owned.sorted(by: { $0.key < $1.key }) {
            guard let child = objects[dependent.kind]?[dependent.key] else { continue }
            let meta = ObjectMeta(json: child["metadata"]?.object ?? JSONObject())
            if orphan {
                var updated = child
                var childMeta = meta
                childMeta.ownerReferences.removeAll { $0.uid == uid }
                updated["metadata"] = .object(childMeta.json)
                _ = try? update(dependent.kind, namespace: meta.namespace, name: meta.name, updated, subresource: nil, dryRun: false)
            } else {
                _ = try? delete(dependent.kind, namespace: meta.namespace, name: meta.name, options: DeleteOptions())
            }
        }
    }

    /// Whether the owner `reference` names exists (an owner of a kind this store does not serve
    /// is taken to exist).
    private func ownerExists(_ reference: OwnerReference, namespace: String) -> Bool {
        guard let kind = ResourceKind.known(apiVersion: reference.apiVersion, kind: reference.kind), kinds.contains(kind) else { return true }
        let owner = objects[kind]?[key(kind, kind.namespaced ? namespace : "", reference.name)]
        return owner?[path: ["metadata", "uid"]]?.string == reference.uid
    }

    private mutating func deleteContents(ofNamespace namespace: String) {
        for kind in kinds where kind.namespaced {
            let keys = (objects[kind] ?? [:]).keys.filter { $0.hasPrefix(namespace + "/") }.sorted()
            for key in keys {
                _ = try? delete(kind, namespace: namespace, name: String(key.dropFirst(namespace.count + 1)), options: DeleteOptions())
            }
        }
    }

    private mutating func indexOwners(of object: JSONObject?, id: ObjectID, old: JSONObject?) {
        func owners(_ o: JSONObject?) -> Set<String> {
            Set(ObjectMeta(json: o?["metadata"]?.object ?? JSONObject()).ownerReferences.map(\.uid).filter { !$0.isEmpty })
        }
        let before = owners(old), after = owners(object)
        for uid in before.subtracting(after) {
            dependents[uid]?.remove(id)
            if dependents[uid]?.isEmpty == true { dependents[uid] = nil }
        }
        for uid in after.subtracting(before) {
            dependents[uid, default: []].insert(id)
        }
    }

    private mutating func record(_ kind: ResourceKind, _ type: WatchEventType, _ object: JSONObject, old: JSONObject?) {
        // Serialized once, for the log, the history's byte count and the watchers alike.
        let shared = SerializedObject(object)
        // A modification keeps the version before it too: counted at the new one's size.
        let change = StoreChange(resourceVersion: resourceVersion, kind: kind, type: type, object: JSONObjectRef(object),
                                 old: old.map { JSONObjectRef($0) }, bytes: shared.bytes.count * (old == nil ? 1 : 2))
        if let log {
            log.append(version: resourceVersion, kind: kind, type: type, objectBytes: shared.bytes)
            if log.wantsCompaction {
                log.compact(objects: objects.lazy.flatMap { kind, byKey in byKey.values.lazy.map { (kind, $0) } }, version: resourceVersion)
            }
        }
        history.append(change)
        historyBytes += change.bytes
        // Bounded by count and by bytes; the newest change always stays.
        while history.count - historyStart > 1,
              history.count - historyStart > historyLimit || historyBytes > historyByteLimit {
            historyFloor = history[historyStart].resourceVersion
            historyBytes -= history[historyStart].bytes
            historyStart += 1
        }
        if historyStart > 1024, historyStart >= history.count / 2 {
            history.removeFirst(historyStart)
            historyStart = 0
        }
        guard let ids = watchersByKind[kind], !ids.isEmpty else { return }
        // Not kept in the history: the text lives only until these watchers have sent it.
        var dead: [Int] = []
        for id in ids {
            guard let watcher = watchers[id], let event = watcher.event(for: change, shared: shared) else { continue }
            if !watcher.deliver(event) { dead.append(id) }
        }
        for id in dead { endWatcher(id) }
    }

    private mutating func endWatcher(_ id: Int) {
        guard let watcher = watchers[id] else { return }
        removeWatcher(id)
        endedWatches.append(watcher.buffer)
    }

    mutating func takeEndedWatches() -> [WatchBuffer] {
        defer { endedWatches = [] }
        return endedWatches
    }

    /// `VERSION.HEXKEY`: the list's resource version and the last key it returned.
    private static func encodeContinue(version: Int64, key: String) -> String {
        String(version) + "." + key.utf8.map { String(format2: $0) }.joined()
    }

    private static func decodeContinue(_ token: String) -> (version: Int64, key: String)? {
        let parts = token.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let version = Int64(parts[0]), version >= 0, let key = decodeHex(String(parts[1])) else { return nil }
        return (version, key)
    }

    private static func decodeHex(_ token: String) -> String? {
        let chars = Array(token.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let byte = UInt8(String(decoding: chars[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

extension String {
    /// Two lower-case hex digits.
    init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
