import FMAAPI
import FMAKube
import FMARPC
import FMAKubeModel
import FMAWire
import Foundation
import Logging

/// The bound path (FMA's §3.9): the instance created or woken, its server proven, routing
/// metadata applied, readiness relayed.
extension DualPodsController {
    func servedByBoundProvider(_ requester: Pod, provider: Pod, state: inout ServerState,
                               addFinalizer: Bool, logger: Logger) async throws -> Outcome {
        if state.instance == nil {
            do {
                state.instance = try DesiredInstance(boundLauncher: provider)
                state.labelsApplied = Self.routingApplied(provider, state.instance!)
            } catch {
                return try await report(requester, [error.message], state: state, addFinalizer: addFinalizer)
            }
            assertDuality(state: &state, requester: requester.metadata.name, node: Self.providerNode(provider) ?? "")
        }
        let desired = state.instance!
        let podName = provider.metadata.name
        guard let ip = provider.status.podIP, !ip.isEmpty, let known = fleet.instances(of: podName), known.synced,
              let launcher = fleet.client(for: podName) else {
            // The launcher is starting; its watch syncing enqueues this server again.
            return .done
        }
        if let created = state.launcherCreatedAt {
            state.launcherStartSeconds = Self.seconds(.now - created)
            state.launcherCreatedAt = nil
        }
        let instance = known.instances[desired.id]
        var current = instance
        if instance?.status == .stopped || (instance == nil && state.instanceKnownToExist) {
            let why = instance == nil ? "vanished from its launcher" : "stopped (\(Self.exitDescription(instance!)))"
            logger.info("bound instance \(why); deleting the requester", metadata: ["instance": "\(desired.id)"])
            state.sleeping = true
            events.post(requester, type: .warning, reason: DualPods.Reason.providerGone,
                                  message: "Deleting server-requesting Pod because its instance \(desired.id) in launcher \(podName) \(why)")
            try await deleteRequester(requester, reason: "its instance \(why)", logger: logger)
            state.requesterDeleteRequested = true
            return .done
        }
        if instance == nil {
            state.neededNewInstance = true
            let request = Fma_V1_CreateInstanceRequest.with {
                $0.id = desired.id
                $0.optionsString = desired.options
                $0.gpuUuids = desired.gpuUUIDs
                $0.envVars = desired.envVars
                $0.annotations = desired.annotations
            }
            let callStart = ContinuousClock.now
            let created = try await createInstance(request, launcher: launcher, podName: podName, iscName: desired.iscName)
            state.launcherCallSeconds += Self.seconds(.now - callStart)
            state.instanceStartedAt = .now
            fleet.record(created, in: podName)
            current = created
            logger.info("created instance", metadata: ["instance": "\(desired.id)", "launcher": "\(podName)"])
        }
        state.instanceKnownToExist = true

        // Whether the server answers, and whether it sleeps. A launcher that put the instance
        // to sleep says so itself; a ready one (its probe found /health answering, announced by
        // a READY event that brings this key back at once) is awake unless it slept it.
        if state.sleeping == nil, instance?.sleepState == .sleeping {
            state.sleeping = true
        }
        if state.sleeping == nil, let current, current.ready {
            state.sleeping = current.sleepState == .sleeping
        }
        if state.sleeping == nil {
            // Not ready yet. The server itself is asked only as a fallback, once the instance
            // has been not ready for a while (a launcher run with --ready-probe-interval 0 never
            // reports ready).
            state.startPolls += 1
            let since = state.notReadySince ?? .now
            state.notReadySince = since
            if ContinuousClock.now - since >= Self.readyFallbackAfter {
                state.sleeping = try? await timed(purpose: "query_sleeping", method: "GET", isc: desired.iscName) { () async throws(ControllerError) in
                    try await instanceHTTP.isSleeping(ip: ip, port: desired.port)
                }
            }
            if state.sleeping == nil {
                if state.startPolls % 20 == 0 {
                    logger.info("instance not ready yet", metadata: ["instance": "\(desired.id)", "looks": "\(state.startPolls)"])
                }
                // 500 ms doubling to 5 s: the READY event normally comes first.
                return .retryAfter(.milliseconds(min(5000, 500 << min(state.startPolls - 1, 4))))
            }
        }
        if let waitingSince = state.instanceStartedAt ?? state.notReadySince {
            state.instanceSeconds += Self.seconds(.now - waitingSince)
            state.startPolls = 0
            state.notReadySince = nil
            state.instanceStartedAt = nil
        }
        if state.sleeping == true {
            let callStart = ContinuousClock.now
            defer { state.launcherCallSeconds += Self.seconds(.now - callStart) }
            let woken = try await launcherCall("wake", isc: desired.iscName, "WakeInstance \(desired.id) on launcher \(podName)") { () async throws(RPCError) in
                try await launcher.wake(desired.id)
            }
            fleet.record(woken, in: podName)
            state.sleeping = false
            state.verified = false
            logger.info("woke instance", metadata: ["instance": "\(desired.id)"])
        }

        if options.verifyCompletion && !state.verified {
            let callStart = ContinuousClock.now
            let failure = await verify(ip: ip, desired: desired)
            state.instanceSeconds += Self.seconds(.now - callStart)
            if let failure {
                state.verifyFailures += 1
                guard state.verifyFailures >= 3 else { return .retryAfter(.milliseconds(200 * state.verifyFailures)) }
                logger.warning("instance failed the verifying completion; deleting it", metadata: ["instance": "\(desired.id)", "error": "\(failure.message)"])
                events.post(requester, type: .warning, reason: DualPods.Reason.verificationFailed,
                                      message: "Instance \(desired.id) in launcher \(podName) failed its verifying completion and is deleted: \(failure.message)")
                try await writeRequesterState(requester, errors: ["instance \(desired.id) failed its verifying completion: \(failure.message)"],
                                              state: state, addFinalizer: addFinalizer)
                try await deleteInstance(desired.id, in: podName, state: &state, iscName: desired.iscName)
                return .done
            }
            state.verified = true
            state.verifyFailures = 0
        }

        // The provider's labels (sleeping, and the routing metadata once it serves) and the
        // requester's state: two Pods, written at once; readiness is relayed after both.
        let sleepingLabel = state.sleeping == true ? "true" : "false"
        let labelsNeeded = provider.metadata.label(DualPods.Label.sleeping) != sleepingLabel || !state.labelsApplied
        if labelsNeeded && !state.labelsApplied {
            let problems = RoutingMetadata.problems(labels: desired.labels, annotations: desired.podAnnotations,
                                                    podLabels: provider.metadata.labels, podAnnotations: provider.metadata.annotations)
            if !problems.isEmpty {
                let message = "Deleting server-requesting Pod because bound launcher is committed to outdated ISC routing metadata: " + problems.joined(separator: "; ")
                events.post(requester, type: .warning, reason: DualPods.Reason.outdatedRoutingMetadata, message: message)
                try await deleteRequester(requester, reason: "outdated ISC routing metadata", logger: logger, preconditions: false)
                state.requesterDeleteRequested = true
                return .done
            }
        }
        let served = ServedRequester(gpuUUIDs: state.gpuUUIDs ?? [], path: state.path, instanceID: desired.id,
                                     addFinalizer: addFinalizer || Self.serverContainerRunning(provider))
        try await withThrowingDiscardingTaskGroup { group in
            if labelsNeeded {
                group.addTask { try await self.writeProviderLabels(provider, desired: desired, sleeping: sleepingLabel) }
            }
            group.addTask { try await self.writeServedRequester(requester, provider: provider, served) }
        }
        if labelsNeeded { state.labelsApplied = true }
        // Ready once the instance serves and its launcher Pod is Ready too (a cold start's new
        // launcher turns Ready at the kubelet's probe, which may come after the instance
        // answers): a Ready requester always has a Ready server Pod, as in FMA. Once relayed,
        // a launcher's probe failing later does not take it back (its instance still serves).
        if state.sleeping == false && !provider.isReady && state.readinessRelayed != true {
            // The launcher Pod's turn to Ready brings this server back.
            logger.debug("instance serves; waiting for the launcher Pod to turn Ready", metadata: ["launcher": "\(podName)"])
            state.launcherPodNotReadySince = state.launcherPodNotReadySince ?? .now
            return .done
        }
        if let since = state.launcherPodNotReadySince {
            state.launcherStartSeconds += Self.seconds(.now - since)
            state.launcherPodNotReadySince = nil
        }
        try await relayReadiness(state.sleeping == false, to: requester, provider: podName, iscName: desired.iscName, state: &state, logger: logger)
        return .done
    }

    /// Step 7, the readiness relay: `ready` to the requester's stub unless its container says so
    /// already; the first time it is ready, the actuation is reported.
    func relayReadiness(_ ready: Bool, to requester: Pod, provider podName: String, iscName: String,
                        state: inout ServerState, logger: Logger) async throws {
        if state.readinessRelayed != ready {
            // The requester's container status may skip the call only while nothing was relayed
            // yet (after a restart): once the stub was told the opposite, its /ready follows that
            // at the kubelet's next probe, whatever the cached status still says (FMA skips the
            // call then too, and a provider that turns unready and ready again within one probe
            // period leaves its requester unready for good).
            let containerReady = requester.status.containerStatuses.first { $0.name == DualPods.inferenceServerContainer }?.ready
            let told = state.readinessRelayed != nil || containerReady != ready
            if told {
                try await timed(purpose: ready ? "relay_ready" : "relay_unready", method: "POST", isc: iscName) { () async throws(ControllerError) in
                    try await requesters.setReady(ready, on: requester)
                }
                logger.debug("relayed readiness", metadata: ["ready": "\(ready)"])
            }
            state.readinessRelayed = ready
            // An actuation is reported when this controller made the requester Ready; one that
            // was Ready already (served before this controller started) took no actuation.
            if ready && !state.actuationReported {
                state.actuationReported = true
                if told { await reportActuation(requester, provider: podName, state: state, logger: logger) }
            }
            // Served: nothing more to ask the stub until something changes, so its connection
            // is closed (a new one is made on demand); a controller serving thousands of
            // requesters holds no descriptor for each.
            if ready { await requesters.forget(uid: requester.metadata.uid) }
        }
    }

    /// What the requester's state says once it is served.
    struct ServedRequester: Sendable {
        var gpuUUIDs: [String]
        var path: ActuationPath
        /// The launcher's instance (launcher mode); nil for a direct provider.
        var instanceID: String?
        var addFinalizer: Bool
    }

    /// The provider's `sleeping` label and the instance's routing labels and annotations.
    private func writeProviderLabels(_ provider: Pod, desired: DesiredInstance, sleeping: String) async throws(KubeError) {
        try await updatePod(provider) { pod in
            var meta = pod.metadata
            meta.labels[DualPods.Label.sleeping] = sleeping
            for (key, value) in desired.labels { meta.labels[key] = value }
            for (key, value) in desired.podAnnotations { meta.annotations[key] = value }
            pod.metadata = meta
        }
    }

    /// The served requester's state: no errors, its GPUs, its pair, the path it took.
    func writeServedRequester(_ requester: Pod, provider: Pod, _ served: ServedRequester) async throws(KubeError) {
        try await updateRequester(requester) { pod in
            var meta = pod.metadata
            meta.annotations[DualPods.Annotation.status] = RequesterStatus.json([])
            meta.annotations[DualPods.Annotation.accelerators] = served.gpuUUIDs.joined(separator: ",")
            if served.addFinalizer && !meta.finalizers.contains(DualPods.Finalizer.requester) {
                meta.finalizers.append(DualPods.Finalizer.requester)
            }
            meta.labels[DualPods.Label.dual] = provider.metadata.name
            meta.labels[DualPods.Label.instance] = served.instanceID
            // Bound as hot, but the instance was gone by the wake: it was a warm start after all.
            let recorded = meta.annotations[DualPods.Annotation.actuationPath]
            if recorded == nil || (recorded == ActuationPath.hot.rawValue && served.path == .warm) {
                meta.annotations[DualPods.Annotation.actuationPath] = served.path.rawValue
            }
            pod.metadata = meta
        }
    }

    /// How long an instance may be not ready before the controller asks its server itself.
    static let readyFallbackAfter: Duration = .seconds(2)

    /// Metrics, the "inference server ready" log line (where the time went) and a Served Event.
    private func reportActuation(_ requester: Pod, provider: String, state: ServerState, logger: Logger) async {
        let path = state.path
        let overhead = state.gpusKnownAt.map { Self.seconds(.now - $0) }
        if let overhead { metrics.actuationOverhead(seconds: overhead, path: path) }
        let started = requester.status.containerStatuses.first { $0.name == DualPods.inferenceServerContainer }?
            .state?["running"]?["startedAt"]?.string.flatMap(KubeTime.date)
        if let started {
            metrics.actuation(seconds: max(0, Date().timeIntervalSince(started)), namespace: options.namespace, path: path,
                              instancesDeleted: state.instancesDeleted.count, iscName: state.instance?.iscName ?? "")
        }
        let took = overhead.map { String(format: " in %.3f s", $0) } ?? ""
        let controllerSeconds = overhead.map { max(0, $0 - state.launcherCallSeconds - state.launcherStartSeconds - state.instanceSeconds) }
        logger.info("inference server ready", metadata: [
            "path": "\(path.rawValue)", "instance": "\(state.instance?.id ?? "")",
            "seconds": "\(overhead.map { String(format: "%.4f", $0) } ?? "")",
            "launcher_call_seconds": "\(String(format: "%.4f", state.launcherCallSeconds))",
            "launcher_start_seconds": "\(String(format: "%.4f", state.launcherStartSeconds))",
            "instance_seconds": "\(String(format: "%.4f", state.instanceSeconds))",
            "controller_seconds": "\(controllerSeconds.map { String(format: "%.4f", $0) } ?? "")",
        ])
        let message = if let instance = state.instance {
            "\(path.rawValue.capitalized) start: instance \(instance.id) in launcher \(provider) ready\(took)"
        } else {
            "\(path.rawValue.capitalized) start: server-providing Pod \(provider) ready\(took)"
        }
        events.post(requester, reason: DualPods.Reason.served, message: message)
    }

    /// Creates the instance; when it exists already (a retry after a lost answer), reads it.
    private func createInstance(_ request: Fma_V1_CreateInstanceRequest, launcher: LauncherClient, podName: String,
                                iscName: String) async throws(ControllerError) -> Fma_V1_Instance {
        let result: Result<Fma_V1_Instance, ControllerError>
        do {
            result = .success(try await launcherCall("create_instance", isc: iscName, "CreateInstance \(request.id) on launcher \(podName)") { () async throws(RPCError) in
                try await launcher.create(request)
            })
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let instance):
            return instance
        case .failure(let error) where error.rpcCode == .alreadyExists:
            return try await launcherCall("get_instance_state", isc: iscName, "GetInstance \(request.id) on launcher \(podName)") { () async throws(RPCError) in
                try await launcher.get(request.id)
            }
        case .failure(let error):
            throw error
        }
    }

    /// The verifying completion's failure, or nil when it passed.
    private func verify(ip: String, desired: DesiredInstance) async -> ControllerError? {
        do {
            try await timed(purpose: "verify_completion", method: "POST", isc: desired.iscName) { () async throws(ControllerError) in
                try await instanceHTTP.verifyCompletion(ip: ip, port: desired.port, model: InstanceHTTP.modelName(options: desired.options))
            }
            return nil
        } catch {
            return error
        }
    }

    /// Whether the committed routing metadata is on the Pod already (after a controller restart).
    static func routingApplied(_ pod: Pod, _ desired: DesiredInstance) -> Bool {
        desired.labels.allSatisfy { pod.metadata.label($0.key) == $0.value }
            && desired.podAnnotations.allSatisfy { pod.metadata.annotation($0.key) == $0.value }
    }

    static func exitDescription(_ instance: Fma_V1_Instance) -> String {
        guard instance.exit.known else { return "exit status unknown" }
        return instance.exit.signal != 0 ? "killed by signal \(instance.exit.signal)" : "exit code \(instance.exit.exitCode)"
    }

}
