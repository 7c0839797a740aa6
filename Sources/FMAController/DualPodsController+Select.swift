import FMAJSON
import FMAKube
import FMARPC
import FMAKubeModel
import Foundation
import Logging

/// Launcher mode with no provider yet (FMA's §3.8.2): hot, warm, reclaim, wait, or cold.
extension DualPodsController {
    func chooseLauncher(_ requester: Pod, isc: InferenceServerConfig, desired: DesiredInstance, node: String,
                        state: inout ServerState, addFinalizer: Bool, logger: Logger) async throws -> Outcome {
        let lcName = isc.spec.launcherConfigName
        guard let config = launcherConfigs.cache.get("\(options.namespace)/\(lcName)") else {
            return try await report(requester, [
                "failed to get LauncherConfig \"\(lcName)\" (named by InferenceServerConfig \(isc.metadata.name)): not found in namespace \(options.namespace)",
            ], state: state, addFinalizer: addFinalizer)
        }
        let template: LauncherTemplate
        do {
            template = try LauncherTemplate(config)
        } catch {
            return try await report(requester, ["failed to build launcher Pod from LauncherConfig \"\(lcName)\": \(error.message)"], state: state, addFinalizer: addFinalizer)
        }
        let (launcherPod, hash) = template.specialized(toNode: node)
        let candidates = launchers(withHash: hash).map { pod -> LauncherSelection.Candidate in
            let known = fleet.instances(of: pod.metadata.name)
            let instances = (known?.instances.values ?? [:].values)
                .filter { $0.status != .stopped }
                .map { instance in
                    LauncherSelection.Instance(id: instance.id, port: instance.annotations[DualPods.instanceInferencePortAnnotation].flatMap(Int.init),
                                               lastUsed: LauncherFleet.lastUsed(instance))
                }
            return LauncherSelection.Candidate(podName: pod.metadata.name,
                                               gone: pod.isTerminating || pod.status.phase == "Failed",
                                               bound: Binding(pod) != nil,
                                               usable: known?.synced == true && pod.status.podIP?.isEmpty == false,
                                               instances: instances)
        }
        let decision = LauncherSelection.decide(candidates: candidates, targetID: desired.id, port: desired.port,
                                                maxInstances: max(1, config.spec.maxInstances))
        logger.debug("launcher decision", metadata: ["decision": "\(decision)", "candidates": "\(candidates.count)"])
        switch decision {
        case .deleteUnreadable(let podName, let instanceID):
            logger.info("deleting an instance without a readable inference-port annotation", metadata: ["launcher": "\(podName)", "instance": "\(instanceID)"])
            try await deleteInstance(instanceID, in: podName, state: &state, iscName: isc.metadata.name)
            return .retryAfter(.zero)
        case .wait:
            // A launcher's watch syncing enqueues this node's unbound requesters again.
            return .done
        case .hot(let podName):
            guard let pod = pod(named: podName) else { return .retry }
            return try await bind(requester, launcher: pod, desired: desired, state: &state, logger: logger)
        case .warm(let podName, let victims):
            for victim in victims {
                logger.info("reclaiming room: deleting instance", metadata: ["launcher": "\(podName)", "instance": "\(victim)"])
                try await deleteInstance(victim, in: podName, state: &state, iscName: isc.metadata.name)
            }
            guard let pod = pod(named: podName) else { return .retry }
            state.neededNewInstance = true
            return try await bind(requester, launcher: pod, desired: desired, state: &state, logger: logger)
        case .create:
            return try await createLauncher(requester, pod: launcherPod, lcName: lcName, desired: desired, state: &state, logger: logger)
        }
    }

    /// Deletes an instance through its launcher; already gone is fine.
    func deleteInstance(_ id: String, in podName: String, state: inout ServerState, iscName: String) async throws(ControllerError) {
        guard let launcher = fleet.client(for: podName) else { throw ControllerError("launcher Pod \(podName) is not connected") }
        let callStart = ContinuousClock.now
        defer { state.launcherCallSeconds += Self.seconds(.now - callStart) }
        do {
            let deleted = try await launcherCall("delete_instance", isc: iscName, "DeleteInstance \(id) on launcher \(podName)") { () async throws(RPCError) in
                try await launcher.delete(id)
            }
            fleet.record(deleted, in: podName, deleted: true)
        } catch where error.rpcCode == .notFound {
        }
        state.instancesDeleted.insert(id)
    }

    /// Binds a launcher Pod to the requester (FMA's §3.7.5, skipping the wake: the bound path
    /// creates or wakes the instance right after), then serves through it.
    private func bind(_ requester: Pod, launcher: Pod, desired: DesiredInstance, state: inout ServerState, logger: Logger) async throws -> Outcome {
        let problems = RoutingMetadata.problems(labels: desired.labels, annotations: desired.podAnnotations,
                                                podLabels: launcher.metadata.labels, podAnnotations: launcher.metadata.annotations)
        guard problems.isEmpty else {
            return try await report(requester, problems, state: state, addFinalizer: false)
        }
        let bound = try await updatePod(launcher) { pod in
            var meta = pod.metadata
            meta.annotations[DualPods.Annotation.requester] = Binding(uid: requester.metadata.uid, name: requester.metadata.name).annotationValue
            Self.writeControllerMetadata(&meta, desired)
            if !meta.finalizers.contains(DualPods.Finalizer.provider) { meta.finalizers.append(DualPods.Finalizer.provider) }
            meta.labels[DualPods.Label.dual] = requester.metadata.name
            pod.metadata = meta
        }
        state.providerName = bound.metadata.name
        state.instance = desired
        state.gpusKnownAt = state.gpusKnownAt ?? .now
        state.sleeping = nil
        state.verified = false
        state.labelsApplied = false
        state.instanceKnownToExist = false
        logger.info("bound server-providing Pod", metadata: ["provider": "\(bound.metadata.name)", "instance": "\(desired.id)", "path": "\(state.path.rawValue)"])
        assertDuality(state: &state, requester: requester.metadata.name, node: Self.providerNode(bound) ?? "")
        try await writeRequesterState(requester, errors: [], state: state, addFinalizer: !requester.metadata.finalizers.contains(DualPods.Finalizer.requester),
                                      path: state.path)
        guard let fresh = pod(named: requester.metadata.name) else { return .done }
        return try await servedByBoundProvider(fresh, provider: bound, state: &state, addFinalizer: false, logger: logger)
    }

    /// A cold start: a new launcher Pod, bound to the requester from birth.
    private func createLauncher(_ requester: Pod, pod: Pod, lcName: String, desired: DesiredInstance,
                                state: inout ServerState, logger: Logger) async throws -> Outcome {
        let problems = RoutingMetadata.problems(labels: desired.labels, annotations: desired.podAnnotations,
                                                podLabels: pod.metadata.labels, podAnnotations: pod.metadata.annotations)
        guard problems.isEmpty else {
            return try await report(requester, problems, state: state, addFinalizer: false)
        }
        var launcher = pod
        var meta = launcher.metadata
        meta.annotations[DualPods.Annotation.requester] = Binding(uid: requester.metadata.uid, name: requester.metadata.name).annotationValue
        meta.labels[DualPods.Label.dual] = requester.metadata.name
        Self.writeControllerMetadata(&meta, desired)
        meta.finalizers.append(DualPods.Finalizer.provider)
        launcher.metadata = meta
        let start = ContinuousClock.now
        let created: Pod
        do {
            created = try await client.create(launcher)
            metrics.launcherCreate(seconds: Self.seconds(.now - start), namespace: options.namespace, launcherConfig: lcName, success: true)
        } catch {
            metrics.launcherCreate(seconds: Self.seconds(.now - start), namespace: options.namespace, launcherConfig: lcName, success: false)
            if error.isInvalid {
                return try await report(requester, ["the desired launcher-based server-providing \(error.message)"], state: state, addFinalizer: false)
            }
            return try await report(requester, ["failed to create launcher-based server-providing Pod: \(error.message)"], state: state, addFinalizer: false, then: .retry)
        }
        written.remember(created)
        state.neededNewLauncher = true
        state.providerName = created.metadata.name
        state.pendingProvider = (created.metadata.name, .now)
        state.launcherCreatedAt = .now
        state.instance = desired
        state.sleeping = nil
        logger.info("created launcher Pod for a cold start", metadata: ["provider": "\(created.metadata.name)", "instance": "\(desired.id)"])
        assertDuality(state: &state, requester: requester.metadata.name, node: Self.providerNode(created) ?? "")
        return try await report(requester, [], state: state, addFinalizer: false)
    }

    /// FMA's controller annotations on a launcher Pod bound for `desired`.
    static func writeControllerMetadata(_ meta: inout ObjectMeta, _ desired: DesiredInstance) {
        meta.annotations[DualPods.Annotation.instanceID] = desired.id
        meta.annotations[DualPods.Annotation.serverPort] = String(desired.port)
        meta.annotations[DualPods.Annotation.vllmConfig] = desired.vllmConfigJSON.serializedString()
        meta.annotations[DualPods.Annotation.iscRoutingMetadata] = desired.routingMetadataJSON.serializedString()
    }

    func assertDuality(state: inout ServerState, requester: String, node: String) {
        guard let instance = state.instance, let provider = state.providerName else { return }
        metrics.duality(1, namespace: options.namespace, requester: requester, provider: provider, instanceID: instance.id, gpus: instance.gpuUUIDs, node: node)
        state.dualityAsserted = true
    }
}
