import FMAKube
import FMAKubeModel
import Foundation
import Logging

/// Direct mode (FMA's §3.7.1–3.7.5): the requester's own spec plus its server patch makes the
/// provider; a sleeping provider with the same `nominal` hash is bound and woken (hot), else the
/// sleeper budget is enforced on the GPUs and a new provider is created (cold).
extension DualPodsController {
    func serveDirect(_ requester: Pod, provider: Pod?, node: String, state: inout ServerState,
                     addFinalizer: Bool, logger: Logger) async throws -> Outcome {
        // Step 7: the GPUs' indices on this node, from gpu-map (a change brings this back).
        let indices: [Int]
        do {
            indices = try GPUMap.indices(of: state.gpuUUIDs ?? [], on: node, in: gpuMap.withLockedValue { $0 })
        } catch {
            return try await report(requester, error.message.split(separator: "\n").map(String.init), state: state, addFinalizer: addFinalizer)
        }
        if let provider {
            return try await servedByDirectProvider(requester, provider: provider, state: &state, addFinalizer: addFinalizer, logger: logger)
        }
        // A provider just created for this server may not be in the cache yet.
        if let pending = state.pendingProvider, ContinuousClock.now - pending.since < WrittenObjects.patience {
            return .done
        }
        if await deletedOnCordonedNode(requester, node: node, state: &state, logger: logger) { return .done }

        let nominal: NominalProvider
        if let cached = state.nominal, state.nominalIndices == indices {
            nominal = cached
        } else {
            do {
                nominal = try NominalProvider(requester: requester, indices: indices, uuids: state.gpuUUIDs ?? [])
            } catch {
                return try await report(requester, [error.message], state: state, addFinalizer: addFinalizer)
            }
            state.nominal = nominal
            state.nominalIndices = indices
        }

        // Hot: a sleeping provider made from the same spec for the same GPUs.
        let sleepers = pods.cache.byIndex(Self.nominalIndex, nominal.hash)
            .filter { Binding($0) == nil && !$0.isTerminating }
            .sorted { $0.metadata.name < $1.metadata.name }
        if let chosen = sleepers.first {
            if sleepers.count > 1 {
                logger.info("several sleeping providers match; binding the first", metadata: ["providers": "\(sleepers.map(\.metadata.name))"])
            }
            return try await bindDirect(chosen, to: requester, state: &state, addFinalizer: addFinalizer, logger: logger)
        }

        // Cold: room on the GPUs first, then a new provider.
        if let outcome = try await enforceSleeperBudget(requester, indices: indices, node: node, state: state, logger: logger) {
            return outcome
        }
        return try await createDirectProvider(nominal, for: requester, state: &state, addFinalizer: addFinalizer, logger: logger)
    }

    /// Binds a sleeping provider (§3.7.5) and goes on with the bound path, which wakes it.
    private func bindDirect(_ provider: Pod, to requester: Pod, state: inout ServerState, addFinalizer: Bool,
                            logger: Logger) async throws -> Outcome {
        let bound = try await updatePod(provider) { pod in
            var meta = pod.metadata
            meta.annotations[DualPods.Annotation.requester] = Binding(uid: requester.metadata.uid, name: requester.metadata.name).annotationValue
            if !meta.finalizers.contains(DualPods.Finalizer.provider) { meta.finalizers.append(DualPods.Finalizer.provider) }
            meta.labels[DualPods.Label.dual] = requester.metadata.name
            pod.metadata = meta
        }
        noteProviderUse(bound.metadata.name)
        state.providerName = bound.metadata.name
        // Assumed asleep, as FMA: the scheduler gave these GPUs to this requester alone.
        state.sleeping = true
        state.readinessRelayed = nil
        state.actuationReported = false
        logger.info("bound sleeping server-providing Pod", metadata: ["provider": "\(bound.metadata.name)"])
        return try await servedByDirectProvider(requester, provider: bound, state: &state, addFinalizer: addFinalizer, logger: logger)
    }

    /// §3.7.4: deletes sleepers on the new server's GPUs beyond `--sleeper-limit` (and, with
    /// `--sleeper-memory-budget`, one more where measured memory is over it), least recently
    /// used first. Returns an outcome to stop with while sleepers are going, nil when there is room.
    private func enforceSleeperBudget(_ requester: Pod, indices: [Int], node: String, state: ServerState,
                                      logger: Logger) async throws -> Outcome? {
        var onGPUs: [String: Pod] = [:]
        for index in indices {
            for pod in pods.cache.byIndex(Self.gpuIndex, "\(node) \(index)") where Binding(pod) == nil {
                onGPUs[pod.metadata.name] = pod
            }
        }
        // Sleepers already going still hold their memory: wait until they are gone.
        let going = onGPUs.values.filter(\.isTerminating).map(\.metadata.name).sorted()
        if !going.isEmpty {
            logger.debug("waiting for evicted sleepers to go", metadata: ["providers": "\(going)"])
            return .retryAfter(.milliseconds(500))
        }
        let used = providerUse.withLockedValue { $0 }
        let sleepers = onGPUs.values.compactMap { pod -> SleeperBudget.Sleeper? in
            guard var sleeper = SleeperBudget.Sleeper(pod) else { return nil }
            if let touched = used[sleeper.name], touched > sleeper.lastUsed { sleeper.lastUsed = touched }
            return sleeper
        }
        guard !sleepers.isEmpty else { return nil }
        let memory = await measuredMemory(requester, indices: indices, state: state, logger: logger)
        let evictions = SleeperBudget.evictions(newServerGPUs: indices, sleepers: sleepers, limit: options.sleeperLimit, memory: memory)
        guard !evictions.isEmpty else { return nil }
        let overCount = indices.contains { gpu in sleepers.count { $0.gpuIndices.contains(gpu) } > options.sleeperLimit }
        let why = overCount ? "more than --sleeper-limit=\(options.sleeperLimit) sleepers on a GPU"
            : "the GPU memory in use is over --sleeper-memory-budget"
        for sleeper in evictions {
            logger.info("deleting least recently used sleeping provider", metadata: ["provider": "\(sleeper.name)", "why": "\(why)"])
            events.post(requester, reason: DualPods.Reason.sleeperEvicted,
                        message: "Deleting sleeping server-providing Pod \(sleeper.name) (least recently used) to make room on GPUs \(indices.map(String.init).joined(separator: ",")): \(why)")
            do {
                try await client.delete(Pod.self, name: sleeper.name, namespace: options.namespace,
                                        options: DeleteOptions(preconditionUID: sleeper.uid, preconditionResourceVersion: sleeper.resourceVersion,
                                                               propagationPolicy: .background))
            } catch {
                guard error.isNotFound || error.isGone else { throw error }
            }
        }
        return .retryAfter(.milliseconds(200))
    }

    /// The bytes in use on each of `indices` as the requester measures them, when
    /// `--sleeper-memory-budget` is set; empty (the count alone) when it is not or the requester
    /// cannot say.
    private func measuredMemory(_ requester: Pod, indices: [Int], state: ServerState, logger: Logger) async -> [Int: SleeperBudget.Memory] {
        guard let budget = options.sleeperMemoryBudget, let uuids = state.gpuUUIDs else { return [:] }
        let usedMiB: [String: UInt64]
        do {
            usedMiB = try await timed(purpose: "get_memory_usage", method: "GET", isc: "") { () async throws(ControllerError) in
                try await requesters.acceleratorMemory(of: requester)
            }
        } catch {
            logger.warning("cannot measure the GPUs' memory; the sleeper count limit alone applies", metadata: ["error": "\(error.message)"])
            return [:]
        }
        var memory: [Int: SleeperBudget.Memory] = [:]
        for (uuid, index) in zip(uuids, indices) {
            if let mib = usedMiB[uuid] { memory[index] = SleeperBudget.Memory(used: mib << 20, budget: budget) }
        }
        return memory
    }

    /// §3.7.3: creates the nominal provider; invalid Pods are the user's to fix (no retry).
    private func createDirectProvider(_ nominal: NominalProvider, for requester: Pod, state: inout ServerState,
                                      addFinalizer: Bool, logger: Logger) async throws -> Outcome {
        let created: Pod
        do {
            created = try await client.create(nominal.pod, namespace: options.namespace)
        } catch {
            let apiMessage = error.status?.message ?? error.message
            if apiMessage.range(of: #"^Pod "[a-z0-9.-]*" is invalid"#, options: .regularExpression) != nil {
                return try await report(requester, ["the nominal server-providing \(apiMessage)"], state: state, addFinalizer: addFinalizer)
            }
            return try await report(requester, ["failed to create server-providing Pod: \(error.message)"], state: state,
                                    addFinalizer: addFinalizer, then: .retry)
        }
        let cached = CachedPod.projected(created)
        written.remember(cached)
        noteProviderUse(created.metadata.name)
        state.providerName = created.metadata.name
        state.pendingProvider = (created.metadata.name, .now)
        state.neededNewLauncher = true
        state.sleeping = false
        logger.info("created server-providing Pod", metadata: ["provider": "\(created.metadata.name)", "nominal": "\(nominal.hash)"])
        try await writeRequesterState(requester, errors: [], state: state, addFinalizer: addFinalizer, path: .cold)
        return .done
    }

    func noteProviderUse(_ name: String) {
        providerUse.withLockedValue { $0[name] = Date() }
    }
}
