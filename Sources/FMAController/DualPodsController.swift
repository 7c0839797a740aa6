import FMAAPI
import FMAHTTPClient
public import FMAKube
import FMAKubeModel
public import FMARPC
import Foundation
public import Logging
import NIOConcurrencyHelpers

/// The dual-pods controller in launcher mode: it serves each server-requesting Pod by waking a
/// sleeping instance (hot), creating one in a launcher with room (warm) or creating a launcher
/// first (cold), binds the pair with FMA's metadata and relays readiness to the requester.
///
/// Informers on Pods, Nodes, InferenceServerConfigs and LauncherConfigs in one namespace feed a
/// keyed work queue; handlers only enqueue keys; every read comes from the caches (plus the
/// objects this controller just wrote, until the caches catch up). One node's keys run one at a
/// time; different nodes run in parallel. Launchers' instances arrive pushed by their
/// `WatchInstances` streams (`LauncherFleet`).
public final class DualPodsController: Sendable {
    public struct Options: Sendable {
        /// The one namespace the controller works in.
        public var namespace: String
        public var workers = 2
        /// The bearer token of launchers' and requesters' fma RPC ports.
        public var token: BearerToken?
        /// After a wake or a fresh start, one 1-token completion before readiness is relayed.
        public var verifyCompletion = true
        /// Leader election; nil runs without (a single replica).
        public var leaderElection: LeaderElector.Options?
        /// Direct mode: the sleeping providers each GPU may keep beside a new one (FMA's
        /// `--sleeper-limit`).
        public var sleeperLimit = 1
        /// Direct mode: the GPU memory (bytes) the sleepers of one GPU may hold when a new
        /// provider is made there; nil: the count limit alone.
        public var sleeperMemoryBudget: UInt64?
        /// Direct mode: before each wake, the requester's GPUs must hold at most
        /// `sleeperLimit` × 4096 MiB (FMA's `--debug-accelerator-memory`).
        public var checkAcceleratorMemory = false

        public init(namespace: String) {
            self.namespace = namespace
        }
    }

    static let requesterIndex = "requester"
    static let launcherHashIndex = "launcherconfighash"
    static let nodeIndex = "nodeName"
    static let iscIndex = "inferenceserverconfig"
    static let nominalIndex = "nominal"
    static let gpuIndex = "gpu"

    let options: Options
    let client: KubeClient
    let logger: Logger
    let metrics: ControllerMetrics
    /// Events, recorded in the background so that no reconcile waits for one.
    let events: EventQueue
    let pods: Informer<KubeListerWatcher<Pod>>
    let nodes: Informer<KubeListerWatcher<Node>>
    let iscs: Informer<KubeListerWatcher<InferenceServerConfig>>
    let launcherConfigs: Informer<KubeListerWatcher<LauncherConfig>>
    /// The `gpu-map` ConfigMap alone (direct mode).
    let gpuMapConfigMaps: Informer<KubeListerWatcher<ConfigMap>>
    /// The `gpu-map` ConfigMap read; nil while it does not exist.
    let gpuMap = NIOLockedValueBox<GPUMap?>(nil)
    /// Direct providers' last bind or unbind by this controller (name → when): with the Pods'
    /// managedFields, the sleeper budget's least-recently-used order. An entry goes with its Pod.
    let providerUse = NIOLockedValueBox<[String: Date]>([:])
    let fleet: LauncherFleet
    let requesters: RequesterAccess
    let instanceHTTP: InstanceHTTP
    let queue: WorkQueue<WorkKey>
    let gate = NodeGate()
    let states = NIOLockedValueBox<[String: ServerState]>([:])
    /// Pods this controller wrote, until the informer delivers the same resourceVersion.
    let written = WrittenObjects()
    let pending = NIOLockedValueBox(PendingKeys())
    private let http: HTTPClient
    private let syncedCallback = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)

    /// Called once the caches have synced (e.g. to write a ready file).
    public var onSynced: (@Sendable () -> Void)? {
        get { syncedCallback.withLockedValue { $0 } }
        set { syncedCallback.withLockedValue { $0 = newValue } }
    }

    public init(client: KubeClient, options: Options, metrics: ControllerMetrics, logger: Logger) {
        self.options = options
        self.client = client
        self.logger = logger
        self.metrics = metrics
        let ns = options.namespace
        events = EventQueue(recorder: EventRecorder(client: client, component: DualPods.controllerName, logger: logger))
        var podOptions = Informer<KubeListerWatcher<Pod>>.Options()
        podOptions.transform = CachedPod.projected
        pods = Informer(client.listerWatcher(Pod.self, namespace: ns), indexes: Self.podIndexes, options: podOptions, logger: logger)
        nodes = Informer(client.listerWatcher(Node.self), logger: logger)
        iscs = Informer(client.listerWatcher(InferenceServerConfig.self, namespace: ns), logger: logger)
        launcherConfigs = Informer(client.listerWatcher(LauncherConfig.self, namespace: ns), logger: logger)
        gpuMapConfigMaps = Informer(client.listerWatcher(ConfigMap.self, namespace: ns, fieldSelector: .equals("metadata.name", GPUMap.configMapName)),
                                    logger: logger)
        queue = WorkQueue(logger: logger)
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.allowHTTP2 = false
        httpConfiguration.proxy = .environment
        httpConfiguration.userAgent = DualPods.controllerName
        http = HTTPClient(configuration: httpConfiguration)
        requesters = RequesterAccess(http: http, token: options.token)
        instanceHTTP = InstanceHTTP(http: http)
        let queue = self.queue
        let podCache = pods.cache
        fleet = LauncherFleet(token: options.token, logger: logger) { podName in
            guard let pod = podCache.get("\(ns)/\(podName)"), let node = Self.providerNode(pod) else { return }
            queue.add(.launcher(podName: podName, node: node))
        }
    }

    static let podIndexes: [String: ObjectCache<Pod>.IndexFunction] = [
        requesterIndex: { pod in Binding(pod).map { [$0.uid] } ?? [] },
        launcherHashIndex: { pod in pod.metadata.annotation(DualPods.Annotation.launcherConfigHash).map { [$0] } ?? [] },
        nodeIndex: { pod in (pod.spec.nodeName).map { [$0] } ?? [] },
        iscIndex: { pod in pod.metadata.annotation(DualPods.Annotation.inferenceServerConfig).flatMap { $0.isEmpty ? nil : [$0] } ?? [] },
        nominalIndex: { pod in pod.metadata.annotation(DualPods.Annotation.nominal).map { [$0] } ?? [] },
        gpuIndex: { pod in DirectProvider.gpuKeys(pod) },
    ]

    /// Runs until the task is cancelled: informers, launcher watches, then (once leading, when
    /// leader election is on) the workers. Throws when the caches cannot sync or leadership is lost.
    public func run() async throws {
        addHandlers()
        let loop = ControlLoop(caches: [.init("pods", pods), .init("nodes", nodes), .init("inferenceserverconfigs", iscs),
                                        .init("launcherconfigs", launcherConfigs), .init("configmaps", gpuMapConfigMaps)],
                               background: [{ await self.fleet.run() }, { await self.events.run() }],
                               election: options.leaderElection, client: client, logger: logger)
        try await loop.run(synced: { self.onSynced?() }, leading: { self.metrics.leader($0) }) {
            await ControlLoop.runWorkers(self.options.workers, queue: self.queue, logger: self.logger) { await self.process($0) }
        }
    }

    /// True once the workers run and nothing is queued or being processed (keys waiting for a
    /// later instant, e.g. a starting instance's next look, do not count).
    public var isIdle: Bool { queue.isIdle }

    /// Stops the queue and closes connections (after `run()`'s task was cancelled).
    public func shutdown() async {
        queue.shutdown()
        await fleet.shutdown()
        await requesters.shutdown()
        await http.shutdown()
    }

    func enqueue(_ key: WorkKey) {
        if let depth = pending.withLockedValue({ $0.add(key, at: .now) }) {
            metrics.queueAdd(node: key.node, depth: depth)
        }
        queue.add(key)
    }

    func process(_ key: WorkKey) async {
        guard gate.enter(key) else { return }
        let started = ContinuousClock.now
        if let (added, depth) = pending.withLockedValue({ $0.start(key) }) {
            metrics.queueWait(node: key.node, seconds: Self.seconds(started - added), depth: depth)
        }
        let outcome: Outcome
        do {
            outcome = try await reconcile(key)
        } catch let error as KubeError where error.isConflict {
            // Another writer (the kubelet, a user) changed the object since the cache saw it.
            logger.debug("reconcile met a conflict; retrying with fresh caches", metadata: ["key": "\(key)"])
            outcome = .retry
        } catch {
            logger.warning("reconcile failed; retrying after backoff", metadata: ["key": "\(key)", "error": "\(error)", "requeues": "\(queue.requeues(key))"])
            outcome = .retry
        }
        let seconds = Self.seconds(.now - started)
        metrics.work(node: key.node, seconds: seconds)
        logger.debug("reconciled", metadata: ["key": "\(key)", "ms": "\(String(format: "%.1f", seconds * 1000))", "outcome": "\(outcome)"])
        switch outcome {
        case .done:
            queue.forget(key)
            metrics.reconciled(outcome: "done")
        case .retry:
            metrics.queueRetry(node: key.node)
            metrics.reconciled(outcome: "retry")
            queue.addRateLimited(key)
        case .retryAfter(let delay):
            queue.forget(key)
            metrics.queueRetry(node: key.node)
            metrics.reconciled(outcome: "retry")
            queue.add(key, after: delay)
        }
        for parked in gate.leave(key.node) { queue.add(parked) }
        metrics.queueDepth(queue.count)
    }

    private func reconcile(_ key: WorkKey) async throws -> Outcome {
        switch key {
        case .server(let uid, let name, let node):
            try await reconcileServer(uid: uid, name: name, node: node)
        case .launcher(let podName, let node):
            try await reconcileLauncher(podName: podName, node: node)
        case .instanceGC(let isc, let node):
            await collectObsoleteInstances(isc: isc, node: node)
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// The node of a provider: its `kubernetes.io/hostname` node selector, else its node.
    static func providerNode(_ pod: Pod) -> String? {
        if let node = pod.spec.nodeSelector[DualPods.hostnameLabel], !node.isEmpty { return node }
        if let node = pod.spec.nodeName, !node.isEmpty { return node }
        return nil
    }
}

extension Task where Success == Never, Failure == Never {
    /// Sleeps until the task is cancelled.
    static func sleepUntilCancelled() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}
