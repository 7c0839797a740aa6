import FMAAPI
import FMAKube
import FMAKubeModel
import FMAWire
import Foundation
import Logging

/// Launcher Pods and their instances (FMA's §3.12): a change wakes the server bound to the
/// launcher, or the node's unserved requesters; stopped instances nobody is bound to go.
extension DualPodsController {
    func reconcileLauncher(podName: String, node: String) async throws -> Outcome {
        guard let pod = pod(named: podName) else {
            fleet.track(podName: podName, address: nil)
            enqueueUnboundRequesters(node: node)
            return .done
        }
        let binding = Binding(pod)
        if let binding {
            enqueue(.server(uid: binding.uid, name: binding.name, node: node))
        }
        if let known = fleet.instances(of: podName), known.synced, let launcher = fleet.client(for: podName) {
            let boundID = binding != nil ? pod.metadata.annotation(DualPods.Annotation.instanceID) : nil
            for instance in known.instances.values where instance.status == .stopped && instance.id != boundID {
                logger.info("deleting a stopped instance", metadata: ["launcher": "\(podName)", "instance": "\(instance.id)",
                                                                    "exit": "\(Self.exitDescription(instance))"])
                do {
                    fleet.record(try await launcher.delete(instance.id), in: podName, deleted: true)
                } catch where error.code == .notFound {
                } catch {
                    logger.warning("could not delete a stopped instance", metadata: ["launcher": "\(podName)", "error": "\(error.message)"])
                }
            }
        }
        if binding == nil { enqueueUnboundRequesters(node: node) }
        return .done
    }

    /// Deletes the sleeping instances on `node` that the ISC named `isc` no longer makes
    /// (FMA's §3.12.3). Errors are logged, never retried; awake ones are handled at unbind.
    func collectObsoleteInstances(isc name: String, node: String) async -> Outcome {
        guard let isc = iscs.cache.get("\(options.namespace)/\(name)") else { return .done }
        for pod in pods.cache.byIndex(Self.nodeIndex, node) where pod.metadata.label(DualPods.Label.launcherConfigName) != nil {
            guard !pod.isTerminating, let known = fleet.instances(of: pod.metadata.name), known.synced,
                  let launcher = fleet.client(for: pod.metadata.name) else { continue }
            let boundID = Binding(pod) != nil ? pod.metadata.annotation(DualPods.Annotation.instanceID) : nil
            for instance in known.instances.values where instance.annotations[DualPods.instanceISCNameAnnotation] == name && instance.id != boundID {
                guard Self.isObsolete(instance, iscs: [isc]), instance.sleepState == .sleeping || instance.status == .stopped else { continue }
                logger.info("deleting an obsolete sleeping instance", metadata: ["launcher": "\(pod.metadata.name)", "instance": "\(instance.id)", "isc": "\(name)"])
                do {
                    fleet.record(try await launcher.delete(instance.id), in: pod.metadata.name, deleted: true)
                } catch {
                    logger.warning("could not delete an obsolete instance", metadata: ["instance": "\(instance.id)", "error": "\(error.message)"])
                }
            }
        }
        return .done
    }
}
