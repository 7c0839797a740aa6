import FMAJSON
import FMAKubeModel
import Foundation
import Logging

/// The node heartbeats a kubelet keeps: one Lease per node in `kube-node-lease`, named after
/// the node and owned by it (so it goes with the node), renewed every `renewInterval` as a
/// kubelet renews it (a quarter of its 40 s duration). `kubectl describe node` shows it.
struct NodeLeases: Sendable {
    static let namespace = "kube-node-lease"
    static let durationSeconds: Int64 = 40

    let store: ObjectStore
    let nodeNames: [String]
    let logger: Logger
    var renewInterval: Duration = .seconds(10)

    /// Renews (or creates) every node's lease until cancelled.
    func run() async {
        while !Task.isCancelled {
            renewAll()
            try? await Task.sleep(for: renewInterval)
        }
    }

    /// One renewal of every node's lease; a node that is gone gets none.
    func renewAll() {
        let now = KubeMicroTime.string(Date())
        for name in nodeNames {
            guard let node = try? store.get(.node, namespace: "", name: name) else { continue }
            let uid = node[path: ["metadata", "uid"]]?.string ?? ""
            do {
                _ = try store.mutate(.lease, namespace: Self.namespace, name: name) { (object) throws(KubeStatus) in
                    object[path: ["spec", "holderIdentity"]] = .string(name)
                    object[path: ["spec", "leaseDurationSeconds"]] = .int(Self.durationSeconds)
                    object[path: ["spec", "renewTime"]] = .string(now)
                }
            } catch where error.reason == .notFound {
                create(node: name, uid: uid, now: now)
            } catch {
                logger.debug("cannot renew a node lease", metadata: ["node": "\(name)", "error": "\(error)"])
            }
        }
    }

    private func create(node name: String, uid: String, now: String) {
        var lease = Lease(name: name, namespace: Self.namespace)
        lease.metadata.ownerReferences = [OwnerReference(apiVersion: "v1", kind: "Node", name: name, uid: uid, controller: false)]
        var spec = LeaseSpec()
        spec.holderIdentity = name
        spec.leaseDurationSeconds = Self.durationSeconds
        spec.renewTime = now
        lease.spec = spec
        do {
            _ = try store.create(.lease, namespace: Self.namespace, lease.json)
        } catch {
            logger.debug("cannot create a node lease", metadata: ["node": "\(name)", "error": "\(error)"])
        }
    }
}
