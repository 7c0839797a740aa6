import FMAJSON
public import FMAKube
import FMAKubeModel
import Foundation
public import Logging
import NIOConcurrencyHelpers

/// The launcher populator: keeps, on every node a LauncherPopulationPolicy selects, as many
/// launcher Pods of each listed LauncherConfig as the policies ask for (the largest count among
/// them), so that a server-requesting Pod finds a launcher already running (a warm start).
///
/// Level-triggered: each (node, LauncherConfig) pair is reconciled from the informer caches
/// alone — what the policies want now against the launcher Pods there now. Bound launchers
/// count toward the number and are never deleted; unbound launchers of an older template are
/// replaced; a pair no policy wants any more loses its unbound launchers; a pair whose config
/// is missing or malformed is left alone (and the policy's status says why). Expectations keep
/// a cache that lags behind from causing a second create or delete. Statuses of
/// LauncherConfigs and policies carry `observedGeneration` and the errors a user must fix.
public final class LauncherPopulator: Sendable {
    public struct Options: Sendable {
        public var namespace: String
        public var workers = 4
        /// How long a create or delete not yet seen in the cache is waited for before the
        /// launchers are listed from the API server instead.
        public var expectationTimeout: Duration = .seconds(5)
        public var thresholds = LauncherPhase.Thresholds()
        /// Leader election; nil runs without (a single replica).
        public var leaderElection: LeaderElector.Options?

        public init(namespace: String) {
            self.namespace = namespace
        }
    }

    /// The component name: Event source, user agent.
    public static let componentName = "launcher-populator"
    static let pairIndex = "pair"
    static let nodeIndex = "node"
    /// The launchers the populator watches and lists: FMA's launcher labels.
    static let launcherSelector = LabelSelector([
        .equals(DualPods.Label.component, DualPods.Label.componentLauncher), .exists(DualPods.Label.launcherConfigName),
    ])

    let options: Options
    let client: KubeClient
    let logger: Logger
    let metrics: PopulatorMetrics
    let events: EventQueue
    let pods: Informer<KubeListerWatcher<Pod>>
    let nodes: Informer<KubeListerWatcher<Node>>
    let policies: Informer<KubeListerWatcher<LauncherPopulationPolicy>>
    let configs: Informer<KubeListerWatcher<LauncherConfig>>
    let queue: WorkQueue<PopulatorKey>
    let expectations: NIOLockedValueBox<PopulatorExpectations>
    /// LauncherConfig name → its template (or why it has none), per resourceVersion.
    let templates = NIOLockedValueBox<[String: (version: String, template: Result<LauncherTemplate, ControllerError>)]>([:])
    /// Policy name → the policy compiled, per resourceVersion.
    let compiled = NIOLockedValueBox<[String: PopulationPolicy]>([:])
    private let syncedCallback = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)

    /// Called once the caches have synced.
    public var onSynced: (@Sendable () -> Void)? {
        get { syncedCallback.withLockedValue { $0 } }
        set { syncedCallback.withLockedValue { $0 = newValue } }
    }

    public init(client: KubeClient, options: Options, metrics: PopulatorMetrics, logger: Logger) {
        self.options = options
        self.client = client
        self.logger = logger
        self.metrics = metrics
        let ns = options.namespace
        events = EventQueue(recorder: EventRecorder(client: client, component: Self.componentName, logger: logger))
        var podOptions = Informer<KubeListerWatcher<Pod>>.Options()
        podOptions.transform = CachedPod.projectedLauncher
        pods = Informer(client.listerWatcher(Pod.self, namespace: ns, labelSelector: Self.launcherSelector),
                        indexes: [Self.pairIndex: { Self.pair(of: $0).map { [Self.indexValue($0)] } ?? [] },
                                  Self.nodeIndex: { Self.pair(of: $0).map { [$0.node] } ?? [] }],
                        options: podOptions, logger: logger)
        nodes = Informer(client.listerWatcher(Node.self), logger: logger)
        policies = Informer(client.listerWatcher(LauncherPopulationPolicy.self, namespace: ns), logger: logger)
        configs = Informer(client.listerWatcher(LauncherConfig.self, namespace: ns), logger: logger)
        queue = WorkQueue(logger: logger)
        expectations = NIOLockedValueBox(PopulatorExpectations(timeout: options.expectationTimeout))
    }

    /// Runs until cancelled: informers, then (once leading) a full pass over every pair and
    /// the workers. Throws when the caches cannot sync or leadership is lost.
    public func run() async throws {
        addHandlers()
        let loop = ControlLoop(caches: [.init("launcher pods", pods), .init("nodes", nodes), .init("launcherpopulationpolicies", policies),
                                        .init("launcherconfigs", configs)],
                               background: [{ await self.events.run() }],
                               election: options.leaderElection, client: client, logger: logger)
        try await loop.run(synced: { self.onSynced?() }) {
            self.enqueueEverything()
            await ControlLoop.runWorkers(self.options.workers, queue: self.queue, logger: self.logger) { await self.process($0) }
        }
    }

    public func shutdown() async {
        queue.shutdown()
    }

    /// True once the workers run and nothing is queued or being processed (keys waiting for a
    /// later instant, e.g. a launcher turning stuck, do not count).
    public var isIdle: Bool { queue.isIdle }

    private func process(_ key: PopulatorKey) async {
        let outcome: Outcome
        do {
            switch key {
            case .launchers(let pair): outcome = try await reconcileLaunchers(pair)
            case .configStatus(let name): outcome = try await reconcileConfigStatus(name)
            case .policyStatus(let name): outcome = try await reconcilePolicyStatus(name)
            }
        } catch let error as KubeError where error.isConflict {
            logger.debug("populator reconcile met a conflict; retrying", metadata: ["key": "\(key)"])
            outcome = .retry
        } catch {
            logger.warning("populator reconcile failed; retrying after backoff", metadata: ["key": "\(key)", "error": "\(error)", "requeues": "\(queue.requeues(key))"])
            outcome = .retry
        }
        switch outcome {
        case .done:
            queue.forget(key)
        case .retry:
            queue.addRateLimited(key)
        case .retryAfter(let delay):
            queue.forget(key)
            queue.add(key, after: delay)
        }
    }

    // MARK: - Reads

    /// The (node, config) pair a launcher Pod belongs to, from its labels.
    static func pair(of pod: Pod) -> PopulatorKey.Pair? {
        let labels = pod.metadata.labels
        guard let config = labels[DualPods.Label.launcherConfigName], !config.isEmpty,
              let node = labels[DualPods.Label.nodeName], !node.isEmpty else { return nil }
        return PopulatorKey.Pair(node: node, config: config)
    }

    static func indexValue(_ pair: PopulatorKey.Pair) -> String { "\(pair.node)\u{0}\(pair.config)" }

    /// The config's template: nil when the config does not exist, a failure when it is malformed.
    func template(_ name: String) -> Result<LauncherTemplate, ControllerError>? {
        guard let config = configs.cache.get(namespace: options.namespace, name: name) else { return nil }
        let version = config.metadata.resourceVersion
        if let known = templates.withLockedValue({ $0[name] }), known.version == version { return known.template }
        let made: Result<LauncherTemplate, ControllerError>
        do { made = .success(try LauncherTemplate(config)) } catch { made = .failure(error) }
        templates.withLockedValue { $0[name] = (version, made) }
        return made
    }

    /// Every policy, compiled (once per resourceVersion).
    func currentPolicies() -> [PopulationPolicy] {
        let objects = policies.cache.list()
        return compiled.withLockedValue { known in
            var current: [String: PopulationPolicy] = [:]
            for object in objects {
                let name = object.metadata.name
                if let policy = known[name], policy.resourceVersion == object.metadata.resourceVersion {
                    current[name] = policy
                } else {
                    current[name] = PopulationPolicy(object)
                }
            }
            known = current
            return Array(current.values)
        }
    }

    /// Every config some policy lists.
    func listedConfigs() -> Set<String> {
        Set(currentPolicies().flatMap(\.counts.keys))
    }
}
