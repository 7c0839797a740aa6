import FMAJSON
import FMAKubeModel
import Logging

/// Keeps one pod of each DaemonSet on every node its pod template's `nodeSelector` matches (and
/// that is not being deleted), as Kubernetes' controller does in outline: the pod is made for
/// the node (`spec.nodeName` set), labelled with the template's hash
/// (`controller-revision-hash`); a pod on a node that no longer matches, or of an older template,
/// is deleted (and replaced). The status counts what `kubectl rollout status` reads.
final class DaemonSetController: InboxLoop {
    enum Input: Sendable {
        case daemonSet(StoreEvent)
        case node(StoreEvent)
        case pod(StoreEvent)
    }

    static let hashLabel = "controller-revision-hash"

    private let store: ObjectStore
    private let logger: Logger
    let inbox = Inbox<Input>()

    init(store: ObjectStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func run() async {
        var index = OwnerIndex<Pod>(ownerKind: "DaemonSet")
        var nodes: [String: Node] = [:]
        for await input in inbox.inputs {
            var dirty: [String] = []
            switch input {
            case .daemonSet(let event):
                dirty = index.observe(owner: event).map { [$0] } ?? []
            case .node(let event):
                let node = Node(json: event.object)
                nodes[node.metadata.name] = event.type == .deleted ? nil : node
                dirty = Array(index.owners.keys)
            case .pod(let event):
                let pod = Pod(json: event.object)
                let gone = event.type == .deleted || pod.status.phase == "Failed" || pod.status.phase == "Succeeded"
                dirty = index.observe(child: pod, metadata: pod.metadata, gone: gone).map { [$0] } ?? []
            }
            for key in dirty {
                guard let daemonSet = index.owners[key] else { continue }
                reconcile(daemonSet, nodes: Array(nodes.values), pods: index.children(of: key))
            }
        }
    }

    private func reconcile(_ daemonSet: JSONObject, nodes: [Node], pods: [Pod]) {
        let meta = ObjectMeta(json: daemonSet["metadata"]?.object ?? JSONObject())
        guard meta.deletionTimestamp == nil else { return }
        let template = daemonSet[path: ["spec", "template"]] ?? .object([:])
        let hash = DeploymentController.templateHash(template)
        let selector = template[path: ["spec", "nodeSelector"]]?.stringMap ?? [:]
        let eligible = Set(nodes.filter { node in
            node.metadata.deletionTimestamp == nil && selector.allSatisfy { node.metadata.labels[$0.key] == $0.value }
        }.map(\.metadata.name))
        var placed: Set<String> = []
        for pod in pods where pod.metadata.deletionTimestamp == nil {
            let node = pod.spec.nodeName ?? ""
            if !eligible.contains(node) || pod.metadata.labels[Self.hashLabel] != hash || placed.contains(node) {
                delete(pod)
            } else {
                placed.insert(node)
            }
        }
        let terminating = Set(pods.filter { $0.metadata.deletionTimestamp != nil }.compactMap(\.spec.nodeName))
        for node in eligible.subtracting(placed).subtracting(terminating).sorted() {
            create(daemonSet, on: node, hash: hash)
        }
        writeStatus(daemonSet, desired: eligible.count, pods: pods.filter { $0.metadata.deletionTimestamp == nil && eligible.contains($0.spec.nodeName ?? "") }, hash: hash)
    }

    private func create(_ daemonSet: JSONObject, on node: String, hash: String) {
        let meta = ObjectMeta(json: daemonSet["metadata"]?.object ?? JSONObject())
        let template = daemonSet[path: ["spec", "template"]]?.object ?? JSONObject()
        var podMeta = ObjectMeta(json: template["metadata"]?.object ?? JSONObject())
        podMeta.name = ""
        podMeta.generateName = meta.name + "-"
        podMeta.namespace = meta.namespace
        podMeta.labels[Self.hashLabel] = hash
        podMeta.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "DaemonSet", name: meta.name, uid: meta.uid)]
        var spec = template["spec"]?.object ?? JSONObject()
        spec["nodeName"] = .string(node)
        let object: JSONObject = ["apiVersion": "v1", "kind": "Pod", "metadata": .object(podMeta.json), "spec": .object(spec)]
        do {
            _ = try store.create(.pod, namespace: meta.namespace, object)
        } catch {
            logger.warning("cannot create a DaemonSet's pod", metadata: ["daemonset": "\(meta.key)", "node": "\(node)", "error": "\(error)"])
        }
    }

    private func delete(_ pod: Pod) {
        let meta = pod.metadata
        do {
            _ = try store.delete(.pod, namespace: meta.namespace, name: meta.name, options: DeleteOptions(preconditionUID: meta.uid))
        } catch {
            logger.debug("cannot delete a DaemonSet's pod", metadata: ["pod": "\(meta.key)", "error": "\(error)"])
        }
    }

    private func writeStatus(_ daemonSet: JSONObject, desired: Int, pods: [Pod], hash: String) {
        let meta = ObjectMeta(json: daemonSet["metadata"]?.object ?? JSONObject())
        let ready = pods.filter(\.isReady).count
        let updated = pods.filter { $0.metadata.labels[Self.hashLabel] == hash }.count
        _ = try? store.mutate(.daemonSet, namespace: meta.namespace, name: meta.name, subresource: "status") { (object) throws(KubeStatus) in
            guard object[path: ["metadata", "uid"]]?.string == meta.uid else { return }
            var status = object["status"]?.object ?? JSONObject()
            let before = status
            status["observedGeneration"] = object[path: ["metadata", "generation"]] ?? 1
            status["desiredNumberScheduled"] = .int(Int64(desired))
            status["currentNumberScheduled"] = .int(Int64(pods.count))
            status["updatedNumberScheduled"] = .int(Int64(updated))
            status["numberReady"] = .int(Int64(ready))
            status["numberAvailable"] = .int(Int64(ready))
            status["numberUnavailable"] = .int(Int64(max(0, desired - ready)))
            status["numberMisscheduled"] = 0
            if status != before { object["status"] = .object(status) }
        }
    }
}
