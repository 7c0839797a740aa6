import FMAAPI
import FMAJSON
import FMAKubeModel
import Foundation
import Logging

/// The kubelets of every simulated node, as one loop fed by the simulator's pod and node
/// watches, by process exits, probe results and timers. Runs each admitted pod's containers
/// (as processes or simulated), reports their status, and stops them on deletion: SIGTERM to
/// the process group, SIGKILL after the grace period, then the object is deleted.
final class Kubelet: Sendable {
    enum Input: Sendable {
        case pod(StoreEvent)
        case node(StoreEvent)
        case exited(uid: String, container: Int, generation: Int, waitStatus: Int32)
        case restart(uid: String, container: Int, generation: Int)
        case probe(uid: String, container: Int, generation: Int, success: Bool)
        case graceExpired(uid: String)
        /// Stop every container (the simulator is stopping); `run()` returns once all are gone.
        case shutdown
    }

    let store: ObjectStore
    let configuration: NodeSimulator.Configuration
    let logger: Logger
    /// Readiness probes go through the project's HTTP client.
    let probeClient = ReadinessProbe.makeClient()
    private let inputs: AsyncStream<Input>
    let continuation: AsyncStream<Input>.Continuation

    init(store: ObjectStore, configuration: NodeSimulator.Configuration, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        (inputs, continuation) = AsyncStream.makeStream()
    }

    func send(_ input: Input) {
        continuation.yield(input)
    }

    /// The log file of a container of the pod `namespace/pod`.
    static func logPath(stateDirectory: String, namespace: String, pod: String, container: String) -> String {
        "\(podDirectory(stateDirectory: stateDirectory, namespace: namespace, pod: pod))/\(container).log"
    }

    /// The directory of the pod `namespace/pod`: its containers' logs, its volumes' files.
    static func podDirectory(stateDirectory: String, namespace: String, pod: String) -> String {
        "\(stateDirectory)/pods/\(namespace)/\(pod)"
    }

    func run() async {
        let worker = KubeletWorker(kubelet: self)
        await withDiscardingTaskGroup { group in
            for await input in inputs {
                worker.handle(input)
                for job in worker.takeJobs() {
                    group.addTask(operation: job)
                }
                if worker.isDone {
                    continuation.finish()
                }
            }
            group.cancelAll()
        }
        // Cancelled before every container stopped: leave nothing behind.
        worker.killEverything()
        await probeClient.shutdown()
    }
}

/// The kubelet loop's state and handlers (used only from `Kubelet.run()`).
final class KubeletWorker {
    private let kubelet: Kubelet
    private var store: ObjectStore { kubelet.store }
    private var configuration: NodeSimulator.Configuration { kubelet.configuration }
    private var logger: Logger { kubelet.logger }
    private let events: PodEventWriter
    private let backoff: RestartBackoff
    private let baseEnvironment: [String: String]
    private let configuredIndices: [String: Int]
    private var nextNodeIndex: Int
    private var nodes: [String: NodeResources] = [:]
    private var pods: [String: KubeletPod] = [:]
    /// node name → pod uid → the pod, for pods bound to a node this kubelet has not seen.
    private var podsOfUnknownNodes: [String: [String: JSONObject]] = [:]
    private var dirty: Set<String> = []
    private var jobs: [@Sendable () async -> Void] = []
    private var shuttingDown = false

    init(kubelet: Kubelet) {
        self.kubelet = kubelet
        events = PodEventWriter(store: kubelet.store, component: "kubelet", logger: kubelet.logger)
        backoff = RestartBackoff(initial: .seconds(1), maximum: kubelet.configuration.maxRestartBackoff)
        let environment = ProcessInfo.processInfo.environment
        baseEnvironment = environment.filter { ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "LOGNAME"].contains($0.key) }
        let offset = kubelet.configuration.nodeIndexOffset
        configuredIndices = Dictionary(kubelet.configuration.nodeNames.enumerated().map { ($1, offset + $0 + 1) }, uniquingKeysWith: { a, _ in a })
        nextNodeIndex = offset + kubelet.configuration.nodeNames.count + 1
    }

    var isDone: Bool { shuttingDown && pods.values.allSatisfy { $0.livePIDs.isEmpty } }

    func takeJobs() -> [@Sendable () async -> Void] {
        defer { jobs.removeAll() }
        return jobs
    }

    func handle(_ input: Kubelet.Input) {
        switch input {
        case .pod(let event): podChanged(event)
        case .node(let event): nodeChanged(event)
        case .exited(let uid, let index, let generation, let waitStatus): exited(uid, index, generation, waitStatus)
        case .restart(let uid, let index, let generation): restart(uid, index, generation)
        case .probe(let uid, let index, let generation, let success): probed(uid, index, generation, success)
        case .graceExpired(let uid): graceExpired(uid)
        case .shutdown: shutdown()
        }
        writeDirtyStatuses()
    }

    /// SIGKILL to every container still running (last resort when the loop was cancelled).
    func killEverything() {
        for pod in pods.values {
            for pid in pod.livePIDs { ContainerProcess.signalGroup(pid, SIGKILL) }
            for container in pod.containers { ContainerProcess.killScope(Self.scope(pod.uid, container.spec.name)) }
        }
    }

    // MARK: Nodes

    private func nodeChanged(_ event: StoreEvent) {
        let name = event.object[path: ["metadata", "name"]]?.string ?? ""
        guard !name.isEmpty else { return }
        if event.type == .deleted {
            guard nodes.removeValue(forKey: name) != nil else { return }
            logger.info("node deleted; deleting its pods", metadata: ["node": "\(name)"])
            let bound = (try? store.list(.pod, namespace: nil, fields: .equals("spec.nodeName", name)).items) ?? []
            for object in bound {
                let meta = ObjectMeta(json: object["metadata"]?.object ?? JSONObject())
                let tracked = pods[meta.uid] != nil
                _ = try? store.delete(.pod, namespace: meta.namespace, name: meta.name, options: DeleteOptions(preconditionUID: meta.uid, gracePeriodSeconds: tracked ? nil : 0))
            }
            return
        }
        guard nodes[name] == nil else { return }
        let index: Int
        if let configured = configuredIndices[name] {
            index = configured
        } else {
            index = nextNodeIndex
            nextNodeIndex += 1
        }
        let gpus = NodeInfo(json: event.object).gpuCapacity
        nodes[name] = NodeResources(node: SimulatedNode(name: name, index: index, gpus: gpus))
        // Pods bound to it before this kubelet saw the node.
        for object in (podsOfUnknownNodes.removeValue(forKey: name) ?? [:]).values {
            podChanged(StoreEvent(type: .added, object: object))
        }
    }

    // MARK: Pods

    private func podChanged(_ event: StoreEvent) {
        guard !shuttingDown else { return }
        let object = event.object
        let meta = ObjectMeta(json: object["metadata"]?.object ?? JSONObject())
        let nodeName = object[path: ["spec", "nodeName"]]?.string ?? ""
        if !nodeName.isEmpty, nodes[nodeName] == nil {
            // Its node may not have reached this kubelet yet.
            podsOfUnknownNodes[nodeName, default: [:]][meta.uid] = event.type == .deleted ? nil : object
        }
        if event.type == .deleted {
            guard let pod = pods[meta.uid] else { return }
            pod.objectGone = true
            beginTermination(pod, grace: meta.deletionGracePeriodSeconds ?? pod.gracePeriodSeconds)
            return
        }
        if let pod = pods[meta.uid] {
            if meta.deletionTimestamp != nil {
                beginTermination(pod, grace: meta.deletionGracePeriodSeconds ?? pod.gracePeriodSeconds)
            }
            return
        }
        guard !nodeName.isEmpty, let node = nodes[nodeName]?.node else { return }
        let phase = object[path: ["status", "phase"]]?.string ?? ""
        guard phase != "Succeeded", phase != "Failed" else { return }
        if meta.deletionTimestamp != nil {
            // Being deleted before it ever ran here: nothing to stop.
            _ = try? store.delete(.pod, namespace: meta.namespace, name: meta.name, options: DeleteOptions(preconditionUID: meta.uid, gracePeriodSeconds: 0))
            return
        }
        admit(object, on: node)
    }

    private func admit(_ object: JSONObject, on node: SimulatedNode) {
        let pod = KubeletPod(json: object, node: node, startTime: Timestamp.now())
        pods[pod.uid] = pod
        dirty.insert(pod.uid)
        if !pod.hostNetwork {
            guard let slot = nodes[node.name]?.takeSlot() else {
                pod.failure = ("OutOfpods", "Node \(node.name) has no free pod address: all 254 are taken")
                release(pod)
                return
            }
            pod.slot = slot
        }
        for index in pod.containers.indices {
            let wanted = SchedulingRequirements.gpus(of: pod.containers[index].spec)
            let preferred = Self.namedGPUs(pod.containers[index].spec, node: node)
            guard let gpus = nodes[node.name]?.takeGPUs(wanted, preferring: preferred) else {
                let available = nodes[node.name]?.freeGPUCount ?? 0
                pod.failure = ("UnexpectedAdmissionError", "Allocate failed due to requested number of devices unavailable for \(SimulatedNode.gpuResource). Requested: \(wanted), Available: \(available), which is unexpected")
                release(pod)
                events.record(namespace: pod.namespace, name: pod.name, uid: pod.uid, type: "Warning", reason: "UnexpectedAdmissionError", message: pod.failure!.message, host: node.name)
                return
            }
            pod.containers[index].gpus = gpus
        }
        logger.debug("admitted pod", metadata: ["pod": "\(pod.key)", "node": "\(node.name)", "ip": "\(pod.podIP ?? "")"])
        for index in pod.containers.indices {
            start(pod, index)
        }
    }

    /// The node's GPUs a container names in its own `NVIDIA_VISIBLE_DEVICES` (UUIDs or indices):
    /// the simulated device plugin gives it those when they are free, as FMA's test requester
    /// takes the GPUs that variable names — so a test can pin a requester to a GPU.
    static func namedGPUs(_ container: Container, node: SimulatedNode) -> [Int] {
        guard let value = container.env.first(where: { $0.name == "NVIDIA_VISIBLE_DEVICES" })?.value else { return [] }
        let uuids = MockGPUs.uuids(node: node.name, count: node.gpus)
        return value.split(separator: ",").compactMap { word -> Int? in
            let word = word.trimmingCharacters(in: .whitespaces)
            if let index = Int(word), (0..<node.gpus).contains(index) { return index }
            return uuids.firstIndex(of: word)
        }
    }

    private func start(_ pod: KubeletPod, _ index: Int) {
        let spec = pod.containers[index].spec
        let uuids = pod.containers[index].gpus.map { MockGPUs.uuid(node: pod.node.name, index: $0) }
        let environment: ContainerEnvironment
        do {
            environment = try ContainerEnvironment(container: spec, pod: pod.facts, gpuUUIDs: uuids,
                                                   references: EnvReferences(store: store, namespace: pod.namespace))
        } catch {
            configurationMissing(pod, index, error.message)
            return
        }
        let volumes: PodVolumes
        let podDirectory = Kubelet.podDirectory(stateDirectory: configuration.stateDirectory, namespace: pod.namespace, pod: pod.name)
        let credentials = PodCredentials(podSpec: pod.spec, namespace: pod.namespace, podDirectory: podDirectory,
                                         access: configuration.apiAccess, store: store)
        do {
            volumes = try PodVolumes(container: spec, podSpec: pod.spec, podDirectory: podDirectory,
                                     references: EnvReferences(store: store, namespace: pod.namespace),
                                     implicit: credentials.map { [(PodCredentials.mountPath, $0.directory)] } ?? [])
        } catch {
            configurationMissing(pod, index, error.message)
            return
        }
        let argv = (spec.command + spec.args).map(environment.expand).map(volumes.rewrite)
        let command = ContainerCommand.classify(argv, binDirectory: configuration.binDirectory, pythonDirectory: configuration.pythonDirectory, python: configuration.python)
        let now = Timestamp.now()
        let firstStart = !pod.containers[index].lifecycle.hasStarted
        dirty.insert(pod.uid)
        switch command {
        case .simulated(let why):
            let probeNote = spec.readinessProbe != nil ? "; its readiness probe is not run (nothing to probe) and it counts as ready" : ""
            pod.containers[index].lifecycle.started(at: now, ready: true)
            if firstStart {
                events.record(namespace: pod.namespace, name: pod.name, uid: pod.uid, reason: "Started", message: "Started container \(spec.name) (simulated: \(why)\(probeNote))",
                              host: pod.node.name, fieldPath: "spec.containers{\(spec.name)}")
            }
        case .missing(let message):
            pod.containers[index].lifecycle.failedToCreate(reason: "CreateContainerError", message: message)
            events.record(namespace: pod.namespace, name: pod.name, uid: pod.uid, type: "Warning", reason: "Failed", message: "Error: \(message)", host: pod.node.name, fieldPath: "spec.containers{\(spec.name)}")
        case .process(let executable, let arguments, let pythonPath):
            var processEnvironment = baseEnvironment
            if let pythonPath {
                processEnvironment["PYTHONPATH"] = pythonPath
                processEnvironment["PYTHONUNBUFFERED"] = "1"
            }
            for (name, value) in credentials?.environment(containerSets: Set(environment.variables.map(\.0))) ?? [:] {
                processEnvironment[name] = value
            }
            for (name, value) in environment.variables { processEnvironment[name] = volumes.rewrite(value) }
            processEnvironment[ContainerProcess.scopeVariable] = Self.scope(pod.uid, spec.name)
            processEnvironment[ContainerProcess.clusterVariable] = kubelet.configuration.stateDirectory
            let log = logPath(pod, spec.name)
            if firstStart {
                // A new pod of the same name starts with fresh logs.
                try? FileManager.default.createDirectory(atPath: (log as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try? FileManager.default.removeItem(atPath: PodLogSource.previousPath(of: log))
                _ = FileManager.default.createFile(atPath: log, contents: nil)
            } else {
                // A restart: the last run's log is what `logs --previous` shows.
                _ = rename(log, PodLogSource.previousPath(of: log))
                _ = FileManager.default.createFile(atPath: log, contents: nil)
            }
            let pid: Int32
            do {
                pid = try ContainerProcess.spawn(executable: executable, arguments: arguments, environment: processEnvironment, logPath: log)
            } catch {
                let exit = ContainerExit(exitCode: 128, reason: "StartError", message: error.description, startedAt: nil, finishedAt: now)
                logger.warning("cannot start container", metadata: ["pod": "\(pod.key)", "container": "\(spec.name)", "error": "\(error)"])
                afterExit(pod, index, exit)
                return
            }
            let probe = spec.readinessProbe
            let runnable = probe?.httpGet != nil || probe?.tcpSocketPort != nil
            pod.containers[index].pid = pid
            pod.containers[index].probeSuccesses = 0
            pod.containers[index].probeFailures = 0
            pod.containers[index].lifecycle.started(at: now, ready: !runnable)
            let generation = pod.containers[index].lifecycle.generation
            let uid = pod.uid
            let continuation = kubelet.continuation
            ContainerProcess.watchExit(pid: pid) { status in
                continuation.yield(.exited(uid: uid, container: index, generation: generation, waitStatus: status))
            }
            if let probe, runnable {
                startProbe(pod, index, probe: probe, generation: generation)
            }
            logger.info("started container", metadata: ["pod": "\(pod.key)", "container": "\(spec.name)", "pid": "\(pid)", "ip": "\(pod.podIP ?? "")"])
            let probeNote = probe != nil && !runnable ? " (only httpGet and tcpSocket readiness probes are run; this one counts as passing)" : ""
            events.record(namespace: pod.namespace, name: pod.name, uid: pod.uid, reason: "Started", message: "Started container \(spec.name)\(probeNote)",
                          host: pod.node.name, fieldPath: "spec.containers{\(spec.name)}")
        }
    }

    /// A Secret or ConfigMap (or key) the container's env names is missing: it waits with
    /// CreateContainerConfigError, as a kubelet's container does, and is tried again every
    /// `configurationRetryDelay` (the object may be created later). One event per message.
    private func configurationMissing(_ pod: KubeletPod, _ index: Int, _ message: String) {
        let reason = "CreateContainerConfigError"
        let repeated = pod.containers[index].lifecycle.state == .waiting(reason: reason, message: message)
        pod.containers[index].lifecycle.failedToCreate(reason: reason, message: message)
        dirty.insert(pod.uid)
        if !repeated {
            let name = pod.containers[index].spec.name
            events.record(namespace: pod.namespace, name: pod.name, uid: pod.uid, type: "Warning", reason: "Failed", message: "Error: \(message)", host: pod.node.name, fieldPath: "spec.containers{\(name)}")
        }
        let generation = pod.containers[index].lifecycle.generation
        let uid = pod.uid
        let continuation = kubelet.continuation
        let delay = configuration.configurationRetryDelay
        jobs.append {
            try? await Task.sleep(for: delay)
            continuation.yield(.restart(uid: uid, container: index, generation: generation))
        }
    }

    /// Runs the container's readiness probe (an HTTP GET, or a TCP connect) every period.
    private func startProbe(_ pod: KubeletPod, _ index: Int, probe: Probe, generation: Int) {
        let spec = pod.containers[index].spec
        let action = probe.httpGet
        let port: Int?
        switch action?.port ?? probe.tcpSocketPort {
        case .int(let number)?: port = number
        case .string(let name)?: port = spec.ports.first { $0.name == name }?.containerPort
        case nil: port = nil
        }
        guard let port, let host = action?.host ?? probe.json["tcpSocket"]?["host"]?.string ?? pod.podIP else {
            events.record(namespace: pod.namespace, name: pod.name, uid: pod.uid, type: "Warning", reason: "ProbeNotRun",
                          message: "Readiness probe of container \(spec.name) names no usable port; it counts as passing", host: pod.node.name,
                          fieldPath: "spec.containers{\(spec.name)}")
            _ = pod.containers[index].lifecycle.setReady(true)
            return
        }
        let stop = ProbeStop()
        pod.containers[index].probeStop = stop
        let path = action?.path
        let initialDelay = Self.seconds(probe.initialDelaySeconds ?? 0)
        let period = Self.seconds(max(1, probe.periodSeconds ?? 10))
        let timeout = Self.seconds(max(1, probe.timeoutSeconds ?? 1))
        let uid = pod.uid
        let continuation = kubelet.continuation
        let client = kubelet.probeClient
        jobs.append {
            try? await Task.sleep(for: initialDelay)
            while !stop.isStopped, !Task.isCancelled {
                let success = if let path {
                    await ReadinessProbe.get(client, host: host, port: port, path: path, timeout: timeout)
                } else {
                    await ReadinessProbe.connect(host: host, port: port, timeout: timeout)
                }
                if stop.isStopped { break }
                continuation.yield(.probe(uid: uid, container: index, generation: generation, success: success))
                try? await Task.sleep(for: period)
            }
        }
    }

    private func probed(_ uid: String, _ index: Int, _ generation: Int, _ success: Bool) {
        guard let pod = pods[uid], !pod.terminating, pod.containers.indices.contains(index),
              pod.containers[index].lifecycle.generation == generation, let probe = pod.containers[index].spec.readinessProbe
        else { return }
        var container = pod.containers[index]
        var changed = false
        if success {
            container.probeSuccesses += 1
            container.probeFailures = 0
            if container.probeSuccesses >= max(1, probe.successThreshold ?? 1) { changed = container.lifecycle.setReady(true) }
        } else {
            container.probeFailures += 1
            container.probeSuccesses = 0
            if container.probeFailures >= max(1, probe.failureThreshold ?? 3) { changed = container.lifecycle.setReady(false) }
        }
        pod.containers[index] = container
        if changed {
            dirty.insert(uid)
            logger.debug("readiness changed", metadata: ["pod": "\(pod.key)", "container": "\(container.spec.name)", "ready": "\(success)"])
        }
    }

    private func exited(_ uid: String, _ index: Int, _ generation: Int, _ waitStatus: Int32) {
        guard let pod = pods[uid], pod.containers.indices.contains(index),
              pod.containers[index].lifecycle.generation == generation, let pid = pod.containers[index].pid
        else { return }
        pod.containers[index].pid = nil
        // The leader is gone; whatever else it started goes with it, as with a container's
        // cgroup: its process group, and what left the group (a launcher's instances).
        ContainerProcess.signalGroup(pid, SIGKILL)
        ContainerProcess.killScope(Self.scope(uid, pod.containers[index].spec.name))
        pod.containers[index].probeStop?.stop()
        let now = Timestamp.now()
        let startedAt = pod.containers[index].lifecycle.startedAt
        let exit = waitStatus == -1
            ? ContainerExit(exitCode: 0, reason: "Unknown", message: "the exit status was collected elsewhere", startedAt: startedAt, finishedAt: now)
            : ContainerExit(waitStatus: waitStatus, startedAt: startedAt, finishedAt: now)
        logger.info("container exited", metadata: ["pod": "\(pod.key)", "container": "\(pod.containers[index].spec.name)", "pid": "\(pid)", "exitCode": "\(exit.exitCode)"])
        afterExit(pod, index, exit)
        if pod.terminating, pod.livePIDs.isEmpty {
            finish(pod)
        }
    }

    private func afterExit(_ pod: KubeletPod, _ index: Int, _ exit: ContainerExit) {
        dirty.insert(pod.uid)
        let after = pod.containers[index].lifecycle.exited(exit, restartPolicy: pod.restartPolicy, backoff: backoff)
        if case .restart(let delay) = after {
            let generation = pod.containers[index].lifecycle.generation
            let uid = pod.uid
            let continuation = kubelet.continuation
            jobs.append {
                try? await Task.sleep(for: delay)
                continuation.yield(.restart(uid: uid, container: index, generation: generation))
            }
        }
        if pod.isFinished { release(pod) }
    }

    private func restart(_ uid: String, _ index: Int, _ generation: Int) {
        guard let pod = pods[uid], !pod.terminating, pod.containers.indices.contains(index),
              pod.containers[index].lifecycle.generation == generation, pod.containers[index].pid == nil,
              !pod.containers[index].lifecycle.isTerminated
        else { return }
        start(pod, index)
    }

    // MARK: Stopping

    /// The marker of every process the container `name` of pod `uid` starts.
    static func scope(_ uid: String, _ name: String) -> String {
        "\(uid)/\(name)"
    }

    private func beginTermination(_ pod: KubeletPod, grace: Int64) {
        guard !pod.terminating else { return }
        pod.terminating = true
        dirty.insert(pod.uid)
        let now = Timestamp.now()
        for index in pod.containers.indices {
            pod.containers[index].probeStop?.stop()
            pod.containers[index].lifecycle.stop(at: now)
            if let pid = pod.containers[index].pid {
                ContainerProcess.signalGroup(pid, SIGTERM)
            } else if pod.containers[index].lifecycle.isRunning {
                // Simulated: it stops at once.
                let exit = ContainerExit(exitCode: 0, reason: "Completed", message: nil, startedAt: pod.containers[index].lifecycle.startedAt, finishedAt: now)
                _ = pod.containers[index].lifecycle.exited(exit, restartPolicy: "Never", backoff: backoff)
            }
        }
        guard !pod.livePIDs.isEmpty else {
            finish(pod)
            return
        }
        logger.info("stopping pod", metadata: ["pod": "\(pod.key)", "grace": "\(grace)s"])
        if !shuttingDown, !pod.objectGone {
            events.record(namespace: pod.namespace, name: pod.name, uid: pod.uid, reason: "Killing", message: "Stopping pod \(pod.name) (grace period \(grace)s)", host: pod.node.name)
        }
        let uid = pod.uid
        let continuation = kubelet.continuation
        jobs.append {
            try? await Task.sleep(for: Self.seconds(grace))
            continuation.yield(.graceExpired(uid: uid))
        }
    }

    private func graceExpired(_ uid: String) {
        guard let pod = pods[uid], pod.terminating else { return }
        for pid in pod.livePIDs {
            logger.warning("container outlived its grace period; killing its process group", metadata: ["pod": "\(pod.key)", "pid": "\(pid)"])
            ContainerProcess.signalGroup(pid, SIGKILL)
        }
        for container in pod.containers {
            ContainerProcess.killScope(Self.scope(uid, container.spec.name))
        }
    }

    /// Every container is gone: free the pod's address and GPUs, and delete the object.
    private func finish(_ pod: KubeletPod) {
        release(pod)
        pods[pod.uid] = nil
        dirty.remove(pod.uid)
        // Its secret and configMap volumes go with it (its logs stay for `kubectl logs`).
        if pod.deleteWhenStopped {
            let directory = Kubelet.podDirectory(stateDirectory: configuration.stateDirectory, namespace: pod.namespace, pod: pod.name)
            try? FileManager.default.removeItem(atPath: directory + "/volumes")
        }
        guard pod.deleteWhenStopped, !pod.objectGone else { return }
        do {
            _ = try store.delete(.pod, namespace: pod.namespace, name: pod.name, options: DeleteOptions(preconditionUID: pod.uid, gracePeriodSeconds: 0))
            logger.debug("pod deleted", metadata: ["pod": "\(pod.key)"])
        } catch {
            logger.debug("cannot delete stopped pod", metadata: ["pod": "\(pod.key)", "error": "\(error)"])
        }
    }

    private func release(_ pod: KubeletPod) {
        guard !pod.resourcesReleased else { return }
        pod.resourcesReleased = true
        if let slot = pod.slot { nodes[pod.node.name]?.releaseSlot(slot) }
        for container in pod.containers { nodes[pod.node.name]?.releaseGPUs(container.gpus) }
    }

    private func shutdown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        let cap = configuration.shutdownGracePeriod.components.seconds
        for pod in Array(pods.values) {
            pod.deleteWhenStopped = false
            beginTermination(pod, grace: min(pod.gracePeriodSeconds, max(0, cap)))
        }
    }

    // MARK: Status

    private func writeDirtyStatuses() {
        guard !shuttingDown else {
            dirty.removeAll()
            return
        }
        let now = Timestamp.now()
        for uid in dirty {
            guard let pod = pods[uid], !pod.objectGone else { continue }
            _ = try? store.mutate(.pod, namespace: pod.namespace, name: pod.name, subresource: "status") { (object) throws(KubeStatus) in
                guard object[path: ["metadata", "uid"]]?.string == uid else {
                    throw KubeStatus.conflict(.pod, name: pod.name, "a different pod of the same name")
                }
                var json = Pod(json: object)
                var status = json.status
                pod.apply(to: &status, now: now)
                json.status = status
                object = json.json
            }
        }
        dirty.removeAll()
    }

    private func logPath(_ pod: KubeletPod, _ container: String) -> String {
        Kubelet.logPath(stateDirectory: configuration.stateDirectory, namespace: pod.namespace, pod: pod.name, container: container)
    }

    /// `seconds` from a pod spec or a delete (any int64 the API accepts) as a duration that
    /// can be slept: negative is 0, and more than Int32.max seconds (68 years) is cut to that,
    /// because `Task.sleep` traps on a deadline past Int64.max seconds.
    static func seconds(_ seconds: Int64) -> Duration {
        .seconds(min(max(0, seconds), Int64(Int32.max)))
    }
}
