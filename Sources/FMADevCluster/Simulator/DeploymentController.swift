import Crypto
import FMAJSON
import FMAKubeModel
import Logging

/// Rolls each Deployment out through ReplicaSets, as Kubernetes' controller does in outline: one
/// ReplicaSet per version of the pod template (named `DEPLOYMENT-HASH`, its pods labelled
/// `pod-template-hash`, controlled by the Deployment); the current one is scaled to
/// `spec.replicas`, and the older ones to 0 once the current one's pods are all ready (or at
/// once when none are wanted). The status counts what `kubectl rollout status` reads. Deleting
/// the Deployment deletes its ReplicaSets and their pods (owner references).
final class DeploymentController: InboxLoop {
    enum Input: Sendable {
        case deployment(StoreEvent)
        case replicaSet(StoreEvent)
    }

    static let hashLabel = "pod-template-hash"

    private let store: ObjectStore
    private let logger: Logger
    let inbox = Inbox<Input>()

    init(store: ObjectStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func run() async {
        var index = OwnerIndex<ReplicaSet>(ownerKind: "Deployment")
        for await input in inbox.inputs {
            let dirty: String?
            switch input {
            case .deployment(let event):
                dirty = index.observe(owner: event)
            case .replicaSet(let event):
                let replicaSet = ReplicaSet(json: event.object)
                dirty = index.observe(child: replicaSet, metadata: replicaSet.metadata, gone: event.type == .deleted)
            }
            if let key = dirty, let deployment = index.owners[key] {
                reconcile(deployment, owned: index.children(of: key))
            }
        }
    }

    /// The hash of a pod template: 10 hex digits of SHA-256 over its canonical JSON.
    static func templateHash(_ template: JSONValue) -> String {
        let digest = SHA256.hash(data: Array(template.canonicalSerialized()))
        return digest.prefix(5).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    private func reconcile(_ deployment: JSONObject, owned: [ReplicaSet]) {
        let meta = ObjectMeta(json: deployment["metadata"]?.object ?? JSONObject())
        guard meta.deletionTimestamp == nil else { return }
        let spec = deployment["spec"]?.object ?? JSONObject()
        let wanted = spec["replicas"]?.int ?? 1
        let template = spec["template"] ?? .object([:])
        let hash = Self.templateHash(template)
        let current = owned.first { $0.metadata.labels[Self.hashLabel] == hash && $0.metadata.deletionTimestamp == nil }
        if let current {
            if current.spec.replicas != wanted { scale(current, to: wanted) }
        } else {
            create(deployment, hash: hash, replicas: wanted)
        }
        let currentReady = current?.status.readyReplicas ?? 0
        let rolledOut = current != nil && (wanted == 0 || currentReady >= wanted)
        for old in owned where old.metadata.uid != current?.metadata.uid && old.spec.replicas != 0 && rolledOut {
            scale(old, to: 0)
        }
        writeStatus(deployment, owned: owned, current: current, wanted: wanted)
    }

    private func create(_ deployment: JSONObject, hash: String, replicas: Int64) {
        let meta = ObjectMeta(json: deployment["metadata"]?.object ?? JSONObject())
        var template = deployment[path: ["spec", "template"]]?.object ?? JSONObject()
        var templateMeta = ObjectMeta(json: template["metadata"]?.object ?? JSONObject())
        templateMeta.labels[Self.hashLabel] = hash
        template["metadata"] = .object(templateMeta.json)
        var selector = deployment[path: ["spec", "selector"]]?.object ?? JSONObject()
        var matchLabels = selector["matchLabels"]?.object ?? JSONObject()
        matchLabels[Self.hashLabel] = .string(hash)
        selector["matchLabels"] = .object(matchLabels)
        var replicaSetMeta = ObjectMeta()
        replicaSetMeta.name = "\(meta.name)-\(hash)"
        replicaSetMeta.namespace = meta.namespace
        replicaSetMeta.labels = templateMeta.labels
        replicaSetMeta.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: meta.name, uid: meta.uid)]
        let object: JSONObject = [
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": .object(replicaSetMeta.json),
            "spec": ["replicas": .int(replicas), "selector": .object(selector), "template": .object(template)],
        ]
        do {
            _ = try store.create(.replicaSet, namespace: meta.namespace, object)
            logger.info("deployment rolls out a new ReplicaSet", metadata: ["deployment": "\(meta.key)", "replicaset": "\(replicaSetMeta.name)"])
        } catch where error.reason == .alreadyExists {
            logger.debug("the deployment's ReplicaSet exists already", metadata: ["replicaset": "\(replicaSetMeta.name)"])
        } catch {
            logger.warning("cannot create a ReplicaSet for a Deployment", metadata: ["deployment": "\(meta.key)", "error": "\(error)"])
        }
    }

    private func scale(_ replicaSet: ReplicaSet, to replicas: Int64) {
        let meta = replicaSet.metadata
        do {
            _ = try store.mutate(.replicaSet, namespace: meta.namespace, name: meta.name) { (object) throws(KubeStatus) in
                guard object[path: ["metadata", "uid"]]?.string == meta.uid else { return }
                object[path: ["spec", "replicas"]] = .int(replicas)
            }
        } catch {
            logger.debug("cannot scale a deployment's ReplicaSet", metadata: ["replicaset": "\(meta.key)", "error": "\(error)"])
        }
    }

    private func writeStatus(_ deployment: JSONObject, owned: [ReplicaSet], current: ReplicaSet?, wanted: Int64) {
        let meta = ObjectMeta(json: deployment["metadata"]?.object ?? JSONObject())
        let replicas = owned.reduce(Int64(0)) { $0 + $1.status.replicas }
        let ready = owned.reduce(Int64(0)) { $0 + $1.status.readyReplicas }
        let updated = current?.status.replicas ?? 0
        let available = ready >= wanted
        _ = try? store.mutate(.deployment, namespace: meta.namespace, name: meta.name, subresource: "status") { (object) throws(KubeStatus) in
            guard object[path: ["metadata", "uid"]]?.string == meta.uid else { return }
            var status = object["status"]?.object ?? JSONObject()
            let before = status
            status["observedGeneration"] = object[path: ["metadata", "generation"]] ?? 1
            status["replicas"] = .int(replicas)
            status["updatedReplicas"] = .int(updated)
            status["readyReplicas"] = .int(ready)
            status["availableReplicas"] = .int(ready)
            status["unavailableReplicas"] = .int(max(0, wanted - ready))
            let condition = status["conditions"]?.array?.first { $0["type"]?.string == "Available" }
            let value = available ? "True" : "False"
            if condition?["status"]?.string != value {
                let now = Timestamp.now()
                status["conditions"] = [[
                    "type": "Available", "status": .string(value), "lastUpdateTime": .string(now), "lastTransitionTime": .string(now),
                    "reason": available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                    "message": available ? "Deployment has minimum availability." : "Deployment does not have minimum availability.",
                ]]
            }
            if status != before { object["status"] = .object(status) }
        }
    }
}
