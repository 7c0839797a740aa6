import FMAAPI
import FMAKube
import FMARPC
import FMAKubeModel
import FMAWire
import Foundation
import Logging

/// Unbinding (FMA's §3.11): de-route first, then sleep the instance (or delete it when its
/// config is obsolete), then strip the binding metadata and the finalizer.
extension DualPodsController {
    /// Returns an outcome to stop with, or nil when the provider is unbound.
    func ensureUnbound(_ provider: Pod, state: inout ServerState, logger: Logger) async throws -> Outcome? {
        // A provider in trouble (restarted and not Ready) is deleted rather than kept.
        let restarts = provider.status.containerStatuses.reduce(0) { $0 + $1.restartCount }
        if restarts > 0 && !provider.isReady {
            logger.info("deleting a server-providing Pod in trouble instead of keeping it", metadata: ["restarts": "\(restarts)"])
            do {
                try await client.delete(Pod.self, name: provider.metadata.name, namespace: options.namespace,
                                        options: DeleteOptions(preconditionUID: provider.metadata.uid, propagationPolicy: .background))
                return .done
            } catch where error.isNotFound {
            } catch {
                logger.warning("could not delete the provider in trouble", metadata: ["error": "\(error)"])
            }
        }
        var provider = provider
        if DirectProvider.isDirect(provider) {
            if let outcome = try await sleepDirect(provider, state: &state, logger: logger) { return outcome }
        } else if state.instance == nil {
            do {
                state.instance = try DesiredInstance(boundLauncher: provider)
            } catch {
                logger.warning("cannot read the bound instance back; unbinding without sleeping it", metadata: ["error": "\(error.message)"])
                state.sleeping = true
            }
        }
        if let desired = state.instance {
            // De-route first: no traffic to a server about to sleep.
            if desired.labels.contains(where: { provider.metadata.label($0.key) != nil }) {
                provider = try await updatePod(provider) { pod in
                    for key in desired.labels.keys { pod.metadata.labels[key] = nil }
                }
            }
            if state.sleeping != true, provider.status.podIP?.isEmpty == false {
                try await sleepOrDelete(desired, in: provider.metadata.name, state: &state, logger: logger)
            }
        }
        let desired = state.instance
        try await updatePod(provider) { pod in
            var meta = pod.metadata
            meta.labels[DualPods.Label.sleeping] = "true"
            meta.annotations[DualPods.Annotation.requester] = nil
            meta.finalizers.removeAll { $0 == DualPods.Finalizer.provider }
            for key in desired?.labels.keys ?? [:].keys { meta.labels[key] = nil }
            for key in desired?.podAnnotations.keys ?? [:].keys { meta.annotations[key] = nil }
            for key in [DualPods.Annotation.instanceID, DualPods.Annotation.serverPort, DualPods.Annotation.vllmConfig, DualPods.Annotation.iscRoutingMetadata] {
                meta.annotations[key] = nil
            }
            meta.labels[DualPods.Label.dual] = nil
            pod.metadata = meta
        }
        if DirectProvider.isDirect(provider) { noteProviderUse(provider.metadata.name) }
        logger.info("unbound server-providing Pod", metadata: ["provider": "\(provider.metadata.name)"])
        return nil
    }

    /// Direct mode: `POST /sleep` to the provider's server. A provider whose server is not
    /// running (it would wake holding the GPU, or never start), or whose node is gone or going,
    /// is no use as a sleeper: it is deleted instead, and that outcome returned.
    private func sleepDirect(_ provider: Pod, state: inout ServerState, logger: Logger) async throws -> Outcome? {
        guard state.sleeping != true else { return nil }
        let node = Self.providerNode(provider).flatMap { nodes.cache.get($0) }
        guard let ip = provider.status.podIP, !ip.isEmpty, Self.serverContainerRunning(provider),
              let node, node.metadata.deletionTimestamp == nil else {
            logger.info("deleting a server-providing Pod whose server does not run or whose node is gone, instead of keeping it asleep")
            do {
                try await client.delete(Pod.self, name: provider.metadata.name, namespace: options.namespace,
                                        options: DeleteOptions(preconditionUID: provider.metadata.uid, propagationPolicy: .background))
            } catch {
                guard error.isNotFound || error.isGone else { throw error }
            }
            return .done
        }
        let port = try DirectProvider.serverPort(provider)
        do {
            try await timed(purpose: "sleep", method: "POST", isc: "") { () async throws(ControllerError) in
                try await instanceHTTP.sleep(ip: ip, port: port)
            }
        } catch {
            throw ControllerError("failed to put provider \(provider.metadata.name) to sleep: \(error.message)")
        }
        state.sleeping = true
        state.readinessRelayed = nil
        state.actuationReported = false
        logger.info("put server-providing Pod to sleep", metadata: ["provider": "\(provider.metadata.name)"])
        return nil
    }

    /// Puts the bound instance to sleep, or deletes it when the ISC it came from now makes
    /// another instance (FMA's obsolescence check).
    private func sleepOrDelete(_ desired: DesiredInstance, in podName: String, state: inout ServerState, logger: Logger) async throws {
        guard let launcher = fleet.client(for: podName), let known = fleet.instances(of: podName), known.synced else {
            throw ControllerError("launcher Pod \(podName) is not connected; cannot put instance \(desired.id) to sleep yet")
        }
        guard let instance = known.instances[desired.id], instance.status != .stopped else {
            state.sleeping = true
            return
        }
        if Self.isObsolete(instance, iscs: iscs.cache.list()) {
            logger.info("deleting obsolete instance at unbind", metadata: ["instance": "\(desired.id)"])
            do {
                try await deleteInstance(desired.id, in: podName, state: &state, iscName: desired.iscName)
                state.sleeping = true
                return
            } catch {
                logger.warning("could not delete the obsolete instance; putting it to sleep", metadata: ["error": "\(error.message)"])
            }
        }
        let slept = try await launcherCall("sleep", isc: desired.iscName, "failed to put provider \(podName) to sleep: SleepInstance \(desired.id)") { () async throws(RPCError) in
            try await launcher.sleep(desired.id)
        }
        fleet.record(slept, in: podName)
        state.sleeping = true
        state.readinessRelayed = nil
        state.actuationReported = false
        logger.info("put instance to sleep", metadata: ["instance": "\(desired.id)"])
    }

    /// Whether the instance's ISC (by its `isc-name` annotation) now names another instance for
    /// the same GPUs. Anything that cannot be checked counts as not obsolete.
    static func isObsolete(_ instance: Fma_V1_Instance, iscs: [InferenceServerConfig]) -> Bool {
        guard let name = instance.annotations[DualPods.instanceISCNameAnnotation],
              let isc = iscs.first(where: { $0.metadata.name == name }), !instance.gpuUuids.isEmpty else { return false }
        return DesiredInstance.instanceID(config: isc.spec.modelServerConfig, gpuUUIDs: instance.gpuUuids) != instance.id
    }
}
