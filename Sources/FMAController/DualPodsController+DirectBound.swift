import FMAKube
import FMAKubeModel
import Logging

/// Direct mode's bound path (FMA's §3.9 for a direct provider): wake it if it sleeps, keep its
/// `sleeping` label true to what the controller knows, write the requester's state, and relay
/// the provider Pod's readiness.
extension DualPodsController {
    func servedByDirectProvider(_ requester: Pod, provider: Pod, state: inout ServerState,
                                addFinalizer: Bool, logger: Logger) async throws -> Outcome {
        let podName = provider.metadata.name
        state.providerName = podName
        let served = ServedRequester(gpuUUIDs: state.gpuUUIDs ?? [], path: state.path, instanceID: nil,
                                     addFinalizer: addFinalizer || Self.serverContainerRunning(provider))
        guard let ip = provider.status.podIP, !ip.isEmpty, Self.serverContainerRunning(provider) else {
            // Starting: its status changes bring this back.
            try await writeServedRequester(requester, provider: provider, served)
            return .done
        }
        let port: Int
        do {
            port = try DirectProvider.serverPort(provider)
        } catch {
            return try await report(requester, [error.message], state: state, addFinalizer: addFinalizer)
        }

        // After a restart the controller asks the server whether it sleeps.
        if state.sleeping == nil {
            do {
                state.sleeping = try await timed(purpose: "query_sleeping", method: "GET", isc: "") { () async throws(ControllerError) in
                    try await instanceHTTP.isSleeping(ip: ip, port: port)
                }
            } catch {
                logger.debug("the provider's server does not answer yet", metadata: ["error": "\(error.message)"])
                return .retryAfter(.seconds(2))
            }
        }
        if state.sleeping == true {
            if options.checkAcceleratorMemory, case let problems = await acceleratorMemoryProblems(requester, state: state), !problems.isEmpty {
                return try await report(requester, problems, state: state, addFinalizer: addFinalizer, then: .retry)
            }
            do {
                try await timed(purpose: "wake_up", method: "POST", isc: "") { () async throws(ControllerError) in
                    try await instanceHTTP.wake(ip: ip, port: port)
                }
            } catch {
                logger.warning("could not wake the server-providing Pod; retrying", metadata: ["error": "\(error.message)"])
                return .retry
            }
            state.sleeping = false
            logger.info("woke server-providing Pod", metadata: ["provider": "\(podName)"])
        }

        let sleepingLabel = state.sleeping == true ? "true" : "false"
        try await withThrowingDiscardingTaskGroup { group in
            if provider.metadata.label(DualPods.Label.sleeping) != sleepingLabel {
                group.addTask { try await self.updatePod(provider) { $0.metadata.labels[DualPods.Label.sleeping] = sleepingLabel } }
            }
            group.addTask { try await self.writeServedRequester(requester, provider: provider, served) }
        }
        // Ready when the provider Pod is (its own readinessProbe) and awake.
        try await relayReadiness(provider.isReady && state.sleeping == false, to: requester, provider: podName, iscName: "",
                                 state: &state, logger: logger)
        return .done
    }

    /// FMA's `--debug-accelerator-memory` check before a wake: each of the server's GPUs holds
    /// at most `sleeperLimit` × 4096 MiB; a requester that cannot say is a problem too.
    private func acceleratorMemoryProblems(_ requester: Pod, state: ServerState) async -> [String] {
        let limit = UInt64(options.sleeperLimit) * 4096
        let used: [String: UInt64]
        do {
            used = try await requesters.acceleratorMemory(of: requester)
        } catch {
            return [error.message]
        }
        return (state.gpuUUIDs ?? []).compactMap { uuid in
            guard let mib = used[uuid] else { return "no GPU usage information for GPU \(uuid)" }
            return mib > limit ? "accelerator \(uuid) is currently using \(mib) MiB of memory, limit for sleeping total is \(limit) MiB" : nil
        }
    }
}
