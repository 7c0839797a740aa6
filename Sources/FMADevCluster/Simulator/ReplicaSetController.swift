import FMAJSON
import FMAKubeModel
import Logging

/// Keeps each ReplicaSet's pods at `spec.replicas`: creates them from the template
/// (`generateName: RS-`, a controller owner reference), deletes extras (unscheduled, then
/// not ready, then newest first) and writes the status counts. Fed the simulator's pod and
/// ReplicaSet events; reconciles after each.
final class ReplicaSetController: InboxLoop {
    enum Input: Sendable {
        case pod(StoreEvent)
        case replicaSet(StoreEvent)
    }

    private let store: ObjectStore
    private let logger: Logger
    let inbox = Inbox<Input>()

    init(store: ObjectStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func run() async {
        var cache = ReplicaSetCache()
        for await input in inbox.inputs {
            var dirty: Set<String> = []
            switch input {
            case .pod(let event):
                if let owner = cache.observe(pod: event.object, deleted: event.type == .deleted) { dirty.insert(owner) }
            case .replicaSet(let event):
                if let key = cache.observe(replicaSet: event.object, deleted: event.type == .deleted) { dirty.insert(key) }
            }
            for key in dirty {
                reconcile(key, cache: &cache)
            }
        }
    }

    /// The most pods one reconcile pass creates.
    static let burst = 500

    private func reconcile(_ key: String, cache: inout ReplicaSetCache) {
        guard let replicaSet = cache.replicaSets[key] else { return }
        let meta = replicaSet.metadata
        guard meta.deletionTimestamp == nil else { return }
        let owned = Self.owned(by: replicaSet, cache: cache)
        let wanted = Int(replicaSet.spec.replicas)
        if owned.count < wanted {
            // At most `burst` creates a pass, as Kubernetes' controller does; the new pods'
            // events bring the ReplicaSet back for the rest.
            for _ in owned.count..<min(wanted, owned.count + Self.burst) {
                do {
                    let created = try store.create(.pod, namespace: meta.namespace, podObject(for: replicaSet))
                    _ = cache.observe(pod: created, deleted: false)
                } catch {
                    logger.warning("cannot create a pod for a ReplicaSet", metadata: ["replicaset": "\(key)", "error": "\(error)"])
                    break
                }
            }
        } else if owned.count > wanted {
            let victims = owned.sorted(by: Self.deletedFirst).prefix(owned.count - wanted)
            for pod in victims {
                let podMeta = pod.metadata
                do {
                    let result = try store.delete(.pod, namespace: podMeta.namespace, name: podMeta.name, options: DeleteOptions(preconditionUID: podMeta.uid))
                    _ = cache.observe(pod: result.object, deleted: { if case .deleted = result { true } else { false } }())
                } catch {
                    logger.debug("cannot delete a ReplicaSet's pod", metadata: ["pod": "\(podMeta.key)", "error": "\(error)"])
                }
            }
        }
        writeStatus(replicaSet, cache: cache)
    }

    /// The active pods it controls that its selector matches.
    private static func owned(by replicaSet: ReplicaSet, cache: ReplicaSetCache) -> [Pod] {
        let selector = (try? replicaSet.spec.labelSelector()) ?? LabelSelector()
        return cache.activePods(ownedBy: replicaSet.metadata.uid).filter { selector.matches($0.metadata.labels) }
    }

    /// Which pods to delete first: unscheduled, then pending, then not ready, then the newest.
    private static func deletedFirst(_ a: Pod, _ b: Pod) -> Bool {
        func rank(_ pod: Pod) -> Int {
            if (pod.spec.nodeName ?? "").isEmpty { return 0 }
            if pod.status.phase == "Pending" { return 1 }
            if !pod.isReady { return 2 }
            return 3
        }
        let (ra, rb) = (rank(a), rank(b))
        if ra != rb { return ra < rb }
        return (a.metadata.creationTimestamp ?? "") > (b.metadata.creationTimestamp ?? "")
    }

    private func podObject(for replicaSet: ReplicaSet) -> JSONObject {
        let template = replicaSet.spec.template
        var pod = Pod(json: [:])
        var meta = template.metadata
        meta.name = ""
        meta.generateName = replicaSet.metadata.name + "-"
        meta.namespace = replicaSet.metadata.namespace
        meta.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: replicaSet.metadata.name, uid: replicaSet.metadata.uid)]
        pod.json["apiVersion"] = "v1"
        pod.json["kind"] = "Pod"
        pod.metadata = meta
        pod.spec = template.spec
        return pod.json
    }

    private func writeStatus(_ replicaSet: ReplicaSet, cache: ReplicaSetCache) {
        let meta = replicaSet.metadata
        let owned = Self.owned(by: replicaSet, cache: cache)
        let templateLabels = replicaSet.spec.template.metadata.labels
        let ready = Int64(owned.filter(\.isReady).count)
        let fullyLabeled = Int64(owned.filter { pod in templateLabels.allSatisfy { pod.metadata.labels[$0.key] == $0.value } }.count)
        _ = try? store.mutate(.replicaSet, namespace: meta.namespace, name: meta.name, subresource: "status") { (object) throws(KubeStatus) in
            var current = ReplicaSet(json: object)
            guard current.metadata.uid == meta.uid else { return }
            var status = current.status
            status.replicas = Int64(owned.count)
            status.readyReplicas = ready
            status.availableReplicas = ready
            status.json["fullyLabeledReplicas"] = fullyLabeled == 0 ? nil : .int(fullyLabeled)
            status.observedGeneration = current.metadata.generation
            current.status = status
            object = current.json
        }
    }
}

/// The ReplicaSet controller's view: ReplicaSets by key, pods by the uid of their controlling
/// ReplicaSet. Ignores events older than what it already holds (its own writes land first).
struct ReplicaSetCache {
    private(set) var replicaSets: [String: ReplicaSet] = [:]
    private var replicaSetKeys: [String: String] = [:]
    /// owner uid → pod uid → pod
    private var podsByOwner: [String: [String: Pod]] = [:]
    /// Pods known to be deleted, so a late event does not bring them back.
    private var deleted: Set<String> = []

    /// The key of the ReplicaSet to reconcile, if any.
    mutating func observe(replicaSet json: JSONObject, deleted isDeleted: Bool) -> String? {
        let replicaSet = ReplicaSet(json: json)
        let key = replicaSet.key
        if isDeleted {
            replicaSets[key] = nil
            replicaSetKeys[replicaSet.metadata.uid] = nil
            return nil
        }
        if let old = replicaSets[key], Self.version(old.json) > Self.version(json) { return nil }
        replicaSets[key] = replicaSet
        replicaSetKeys[replicaSet.metadata.uid] = key
        return key
    }

    /// The key of the owning ReplicaSet to reconcile, if any.
    mutating func observe(pod json: JSONObject, deleted isDeleted: Bool) -> String? {
        let pod = Pod(json: json)
        let meta = pod.metadata
        guard let owner = meta.ownerReferences.first(where: { $0.controller && $0.kind == "ReplicaSet" }) else { return nil }
        if isDeleted {
            podsByOwner[owner.uid]?[meta.uid] = nil
            deleted.insert(meta.uid)
            if deleted.count > 100_000 { deleted.removeAll() }
        } else {
            guard !deleted.contains(meta.uid) else { return nil }
            if let old = podsByOwner[owner.uid]?[meta.uid], Self.version(old.json) > Self.version(json) { return nil }
            podsByOwner[owner.uid, default: [:]][meta.uid] = pod
        }
        return replicaSetKeys[owner.uid]
    }

    /// Owned pods that are neither being deleted nor finished.
    func activePods(ownedBy uid: String) -> [Pod] {
        (podsByOwner[uid] ?? [:]).values.filter { pod in
            pod.metadata.deletionTimestamp == nil && pod.status.phase != "Succeeded" && pod.status.phase != "Failed"
        }
    }

    private static func version(_ json: JSONObject) -> Int64 {
        Int64(json[path: ["metadata", "resourceVersion"]]?.string ?? "") ?? 0
    }
}
