import FMAJSON
import FMAKubeModel

/// What a workload controller (Deployment, DaemonSet) keeps of the store's events: its objects
/// by key, and the children each controls (by owner uid, from the children's controller owner
/// reference). Each `observe` answers the key of the owner to reconcile, if any.
struct OwnerIndex<Child> {
    /// The owners' kind, as children's owner references name it.
    let ownerKind: String
    private(set) var owners: [String: JSONObject] = [:]
    private var keysByUID: [String: String] = [:]
    /// owner uid → child uid → child
    private var children: [String: [String: Child]] = [:]

    init(ownerKind: String) {
        self.ownerKind = ownerKind
    }

    /// An owner's event: nil when it was deleted (its children go from the index too).
    mutating func observe(owner event: StoreEvent) -> String? {
        let meta = ObjectMeta(json: event.object["metadata"]?.object ?? JSONObject())
        guard event.type != .deleted else {
            owners[meta.key] = nil
            keysByUID[meta.uid] = nil
            children[meta.uid] = nil
            return nil
        }
        owners[meta.key] = event.object
        keysByUID[meta.uid] = meta.key
        return meta.key
    }

    /// A child's event (`gone`: deleted, or no longer counted): the key of its controlling owner.
    mutating func observe(child: Child, metadata: ObjectMeta, gone: Bool) -> String? {
        guard let owner = metadata.ownerReferences.first(where: { $0.controller && $0.kind == ownerKind }) else { return nil }
        if gone {
            children[owner.uid]?[metadata.uid] = nil
        } else {
            children[owner.uid, default: [:]][metadata.uid] = child
        }
        return keysByUID[owner.uid]
    }

    /// The children of the owner with this key.
    func children(of key: String) -> [Child] {
        guard let uid = owners[key]?[path: ["metadata", "uid"]]?.string else { return [] }
        return Array((children[uid] ?? [:]).values)
    }
}
