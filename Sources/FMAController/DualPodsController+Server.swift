import FMAKube
import FMAKubeModel
import Foundation
import Logging

/// The inference-server reconcile (FMA's §3.7, launcher mode): one requester and its provider.
extension DualPodsController {
    func reconcileServer(uid: String, name: String, node: String) async throws -> Outcome {
        var logger = self.logger
        logger[metadataKey: "requester"] = "\(name)"
        logger[metadataKey: "node"] = "\(node)"
        // FMA looks the requester up by name alone; a same-named replacement (a StatefulSet's)
        // is another server here.
        let requester = pod(named: name).flatMap { $0.metadata.uid == uid ? $0 : nil }
        let providers = providers(of: uid)
        guard providers.count <= 1 else {
            logger.error("found multiple bound server-providing Pods", metadata: ["providers": "\(providers.map(\.metadata.name))"])
            return .done
        }
        let provider = providers.first
        var state = self.state(uid) ?? ServerState(requesterName: name)
        if let provider {
            state.providerName = provider.metadata.name
            state.pendingProvider = nil
            logger[metadataKey: "provider"] = "\(provider.metadata.name)"
        }
        defer { if self.state(uid) != nil || requester != nil || provider != nil { setState(uid, state) } }

        // End of life: both Pods gone.
        guard requester != nil || provider != nil else {
            if let instance = state.instance, state.dualityAsserted {
                metrics.duality(0, namespace: options.namespace, requester: name, provider: state.providerName ?? "",
                                instanceID: instance.id, gpus: instance.gpuUUIDs, node: node)
            }
            setState(uid, nil)
            await requesters.forget(uid: uid)
            logger.info("end of life of inference server")
            return .done
        }

        var addRequesterFinalizer = false
        if let requester {
            let want = provider.map(Self.serverContainerRunning) ?? false
            let have = requester.metadata.finalizers.contains(DualPods.Finalizer.requester)
            if !want && have {
                // The provider is not (yet, or no longer) running: nothing holds the requester.
                try await updateRequester(requester) { $0.metadata.finalizers.removeAll { $0 == DualPods.Finalizer.requester } }
                return .done
            }
            addRequesterFinalizer = want && !have && !requester.isTerminating
        }

        // The provider is being deleted: the requester goes too (its set makes a new one).
        if let provider, provider.isTerminating {
            if let requester, !requester.isTerminating, !state.requesterDeleteRequested {
                events.post(requester, type: .warning, reason: DualPods.Reason.providerGone,
                                      message: "Deleting server-requesting Pod because its server-providing Pod \(provider.metadata.name) is being deleted")
                try await deleteRequester(requester, reason: "its server-providing Pod is being deleted", logger: logger)
                state.requesterDeleteRequested = true
            }
            if provider.metadata.finalizers.contains(DualPods.Finalizer.provider) {
                try await updatePod(provider) { $0.metadata.finalizers.removeAll { $0 == DualPods.Finalizer.provider } }
            }
            return .done
        }

        // The requester is gone or going: unbind (sleep the instance, or delete it if obsolete).
        if requester == nil || requester!.isTerminating {
            if let provider {
                if let outcome = try await ensureUnbound(provider, state: &state, logger: logger) { return outcome }
            }
            if let requester, requester.metadata.finalizers.contains(DualPods.Finalizer.requester) {
                try await updateRequester(requester) { pod in
                    pod.metadata.annotations[DualPods.Annotation.status] = RequesterStatus.json([])
                    pod.metadata.finalizers.removeAll { $0 == DualPods.Finalizer.requester }
                }
            }
            return .done
        }
        let requesterPod = requester!
        return try await serve(requesterPod, provider: provider, node: node, state: &state,
                               addFinalizer: addRequesterFinalizer, logger: logger)
    }

    /// Steps 5–11: a live requester, with or without a provider.
    private func serve(_ requester: Pod, provider: Pod?, node: String, state: inout ServerState,
                       addFinalizer: Bool, logger: Logger) async throws -> Outcome {
        guard !state.requesterDeleteRequested else { return .done }
        guard let nodeObject = nodes.cache.get(node), nodeObject.metadata.deletionTimestamp == nil else {
            logger.debug("ignoring inference server on absent or departing node")
            return .done
        }
        guard requester.status.podIP?.isEmpty == false else {
            return try await report(requester, ["no IP assigned yet"], state: state, addFinalizer: addFinalizer)
        }
        // The requester's GPUs, asked once.
        if state.gpuUUIDs == nil {
            let gpus: [String]
            do {
                gpus = try await timed(purpose: "get_gpu_uuids", method: "GET", isc: "") { () async throws(ControllerError) in
                    try await requesters.accelerators(of: requester)
                }
            } catch {
                return try await report(requester, [error.message], state: state, addFinalizer: addFinalizer, then: .retry)
            }
            guard !gpus.isEmpty else {
                return try await report(requester, ["the assigned set of GPUs is empty"], state: state, addFinalizer: addFinalizer)
            }
            state.gpuUUIDs = gpus
            state.gpusKnownAt = .now
            logger.debug("requester's GPUs known", metadata: ["gpus": "\(gpus.joined(separator: ","))"])
        }

        // FMA's test: launcher mode when the ISC annotation is present, even empty.
        if requester.metadata.annotation(DualPods.Annotation.inferenceServerConfig) == nil {
            return try await serveDirect(requester, provider: provider, node: node, state: &state, addFinalizer: addFinalizer, logger: logger)
        }
        if let provider {
            return try await servedByBoundProvider(requester, provider: provider, state: &state, addFinalizer: addFinalizer, logger: logger)
        }

        // No provider yet. A launcher just made for this server may not be in the cache yet.
        if let pending = state.pendingProvider, ContinuousClock.now - pending.since < WrittenObjects.patience {
            return .done
        }
        let iscName = requester.metadata.annotation(DualPods.Annotation.inferenceServerConfig) ?? ""
        guard !iscName.isEmpty else {
            return try await report(requester, ["empty value for annotation \"\(DualPods.Annotation.inferenceServerConfig)\""], state: state, addFinalizer: addFinalizer)
        }
        guard let isc = iscs.cache.get("\(options.namespace)/\(iscName)") else {
            return try await report(requester, [
                "failed to get InferenceServerConfig \"\(iscName)\": not found in namespace \(options.namespace); create it or fix the annotation \(DualPods.Annotation.inferenceServerConfig)",
            ], state: state, addFinalizer: addFinalizer)
        }
        let desired: DesiredInstance
        do {
            desired = try DesiredInstance(isc: isc, gpuUUIDs: state.gpuUUIDs ?? [])
        } catch {
            return try await report(requester, ["failed to configure inference server: \(error.message)"], state: state, addFinalizer: addFinalizer)
        }

        if await deletedOnCordonedNode(requester, node: node, state: &state, logger: logger) { return .done }
        return try await chooseLauncher(requester, isc: isc, desired: desired, node: node, state: &state, addFinalizer: addFinalizer, logger: logger)
    }

    /// Step 10: a requester with no provider on a cordoned node is deleted (its set makes a new
    /// one elsewhere); a failure is logged, not retried, as FMA's.
    func deletedOnCordonedNode(_ requester: Pod, node: String, state: inout ServerState, logger: Logger) async -> Bool {
        guard nodes.cache.get(node)?.spec.unschedulable == true else { return false }
        logger.info("deleting server-requesting Pod because it is bound to an unschedulable node and has no server-providing Pod")
        events.post(requester, type: .warning, reason: DualPods.Reason.nodeUnschedulable,
                    message: "Deleting server-requesting Pod because its node \(node) is cordoned and no server-providing Pod serves it yet")
        do {
            try await deleteRequester(requester, reason: "its node is cordoned", logger: logger, preconditions: false)
        } catch {
            logger.warning("could not delete the requester on a cordoned node", metadata: ["error": "\(error)"])
        }
        state.requesterDeleteRequested = true
        return true
    }
}
