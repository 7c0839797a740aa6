import ArgumentParser
import CFMAEarlyMalloc
import FMAAPI
import FMACommand
import FMAController
import FMAKube
import FMAKubeModel
import FMARPC
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// `fma-controller`: the dual-pods controller.
@main
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fma-controller",
        abstract: "Serve server-requesting Pods with vLLM instances in launchers (hot, warm or cold) and keep warm launchers where policies ask.",
        discussion: """
            A server-requesting Pod carries the annotation dual-pods.llm-d.ai/inference-server-config \
            naming an InferenceServerConfig. For each one scheduled in --namespace, the controller asks \
            the requester's stub for its GPUs, computes the instance the config makes on them, then \
            wakes a sleeping instance of that id in a launcher on the node (hot), creates it in a \
            launcher with room, deleting port-conflicting or least recently used sleepers to make room \
            (warm), or creates a launcher Pod from the config's LauncherConfig (cold). It binds the pair \
            with FMA's annotations, labels and finalizers, proves the instance with one 1-token \
            completion (--verify-completion), and relays readiness to the requester. When the requester \
            goes, the instance is put to sleep (deleted if its config changed) and the launcher unbound; \
            when the provider or its instance goes, the requester is deleted so its set makes a new one.

            Launchers are reached over fma's RPC on the launcher container's port named fma-rpc, with \
            the bearer token of --token-file; requesters over fma's RPC when their container has such a \
            port, else FMA's HTTP SPI on their admin port (dual-pods.llm-d.ai/admin-port, default 8081).

            The launcher populator (the same process unless --dual-pods alone is given) keeps, on every \
            node a LauncherPopulationPolicy selects, the number of launcher Pods of each LauncherConfig \
            it lists (the largest count among the policies that select the node): it creates missing \
            ones, deletes unbound ones no policy wants or made from an older template of their config, \
            never deletes a bound one, and leaves a config that is missing or malformed alone. An unbound \
            launcher unscheduled for --stuck-scheduling-threshold, or scheduled and not Ready for \
            --stuck-starting-threshold, gets the label dual-pods.llm-d.ai/launcher-stuck=true and one \
            LauncherStuck Event. LauncherConfigs' and policies' status.errors say what to fix.

            Direct mode (FMA's): a requester with the annotation dual-pods.llm-d.ai/server-patch instead \
            is served by a server-providing Pod made from its own spec with that patch applied (a \
            strategic merge patch, rendered first as a Go template with {{ .NodeName }} and \
            {{ .LocalVolume }}), given its GPUs as CUDA_VISIBLE_DEVICES from the ConfigMap gpu-map \
            (per node, a JSON object of GPU UUID to index), pinned to the node, with zero GPU requests. \
            When the requester goes, the provider is put to sleep (POST /sleep) and kept; a later \
            requester with the same spec on the same GPUs wakes it (POST /wake_up). Before a new \
            provider is created, sleepers on its GPUs beyond --sleeper-limit (and beyond \
            --sleeper-memory-budget, as measured) are deleted, least recently used first.

            Problems a user must fix appear in the requester's dual-pods.llm-d.ai/status annotation and \
            as Events; `fmactl dual list` shows every pair.

            The ready file (--ready-file) gets one line, "synced", once the caches have synced; then the \
            metrics URL if --metrics-listen was given.

            Exit status: 0 after SIGTERM or SIGINT, 1 when the namespace is empty, the kubeconfig cannot \
            be read, the caches cannot sync or leadership is lost, 64 on bad usage.

            Examples:
              fma-controller --namespace default --token-file /var/run/fma/token
              KUBECONFIG=/tmp/fma-run/cluster/kubeconfig fma-controller -n default --leader-elect=false
              fma-controller -n default --populator --stuck-starting-threshold 3m   # the populator alone
            """,
        version: FMAVersion.current)

    @Option(name: [.customShort("n"), .long], help: ArgumentHelp("The namespace whose Pods and custom resources the controller serves (required).", valueName: "name"))
    var namespace: String = ""

    @Option(help: ArgumentHelp("The kubeconfig to use (default: $KUBECONFIG, in-cluster, then ~/.kube/config).", valueName: "file"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("The kubeconfig context to use (default: its current context).", valueName: "name"))
    var context: String?

    @Option(help: ArgumentHelp("The kubeconfig cluster to use instead of the context's.", valueName: "name"))
    var cluster: String?

    @Option(help: ArgumentHelp("The kubeconfig user to use instead of the context's.", valueName: "name"))
    var user: String?

    @Option(name: [.long, .customLong("num-workers")], help: "Workers reconciling at once (one node's work is never split across two).")
    var workers: Int = 2

    @Option(name: .customLong("kube-api-qps"), help: ArgumentHelp("Requests per second the controller may send the API server (a token bucket; bursts up to --kube-api-burst).", valueName: "qps"))
    var kubeAPIQPS: Double = 50

    @Option(name: .customLong("kube-api-burst"), help: ArgumentHelp("Requests the controller may send the API server at once before --kube-api-qps paces it.", valueName: "n"))
    var kubeAPIBurst: Int = 100

    @Option(name: .customLong("token-file"), help: ArgumentHelp("A file holding the bearer token of launchers' and requesters' fma RPC (default: $FMA_TOKEN).", valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("After a wake or a fresh start, prove the instance with one 1-token completion before relaying readiness (true or false).", valueName: "bool"))
    var verifyCompletion: Bool = true

    @Option(help: ArgumentHelp("Elect a leader with a coordination.k8s.io Lease, so several replicas can run (true or false).", valueName: "bool"))
    var leaderElect: Bool = true

    @Option(help: ArgumentHelp("The Lease of leader election.", valueName: "name"))
    var leaseName: String = "fma-dual-pods-controller"

    @Option(help: ArgumentHelp("Seconds a leader that stops renewing keeps the Lease (a standby takes over after that).", valueName: "seconds"))
    var leaseDuration: Int = 15

    @Option(help: ArgumentHelp("This replica's identity in the Lease (default: $POD_NAME, else host name and pid).", valueName: "name"))
    var identity: String?

    @Option(help: ArgumentHelp("Serve Prometheus metrics at GET /metrics on tcp://HOST:PORT (port 0: a free one).", valueName: "address"))
    var metricsListen: String?

    @Option(help: ArgumentHelp("FMA's flag: serve metrics on this port of every address (same as --metrics-listen tcp://0.0.0.0:PORT).", valueName: "port"))
    var metricsPort: Int?

    @Option(help: ArgumentHelp("FMA's profiling port; accepted so FMA's manifests run, unused (fma serves no pprof).", valueName: "port"))
    var debugPort: Int?

    @Option(help: ArgumentHelp("Write \"synced\" (and the metrics URL) here once the caches have synced.", valueName: "file"))
    var readyFile: String?

    @Option(help: ArgumentHelp("Direct mode: the sleeping server-providing Pods each GPU may keep beside a new one; before creating a provider the least recently used beyond it are deleted.", valueName: "n"))
    var sleeperLimit: Int = 1

    @Option(help: ArgumentHelp("Direct mode: the GPU memory (a quantity: 16Gi, 20000Mi) the sleepers of one GPU may hold when a provider is created there; while the requester measures more in use, the least recently used sleeper is deleted too. Unset: --sleeper-limit alone.", valueName: "quantity"))
    var sleeperMemoryBudget: String?

    @Option(help: ArgumentHelp("Direct mode: before each wake, check through the requester that its GPUs hold at most --sleeper-limit × 4096 MiB (true or false).", valueName: "bool"))
    var debugAcceleratorMemory: Bool = false

    @Flag(help: "Run the dual-pods controller (alone, unless --populator is given too; without either flag both run).")
    var dualPods = false

    @Flag(help: "Run the launcher populator (alone, unless --dual-pods is given too; without either flag both run).")
    var populator = false

    @Option(help: ArgumentHelp("Populator: how long a launcher it created or deleted may take to show in its cache before it lists launchers from the API server instead (Go syntax: 5s, 1m).", valueName: "duration"))
    var expectationTimeout = GoDuration(argument: "5s")!

    @Option(help: ArgumentHelp("Populator: an unbound launcher not scheduled this long after its creation is stuck (stuck_scheduling).", valueName: "duration"))
    var stuckSchedulingThreshold = GoDuration(argument: "2m")!

    @Option(help: ArgumentHelp("Populator: an unbound launcher scheduled this long ago and not Ready is stuck (stuck_starting).", valueName: "duration"))
    var stuckStartingThreshold = GoDuration(argument: "7m30s")!

    @Option(help: ArgumentHelp("Populator: workers reconciling (node, LauncherConfig) pairs at once.", valueName: "n"))
    var populatorWorkers: Int = 4

    @Option(help: ArgumentHelp("Populator: the Lease of its leader election (it leads apart from the dual-pods controller).", valueName: "name"))
    var populatorLeaseName: String = "fma-launcher-populator"

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard (1...256).contains(workers) else { throw ValidationError("--workers \(workers) is not from 1 to 256") }
        guard (2...3600).contains(leaseDuration) else { throw ValidationError("--lease-duration \(leaseDuration) is not from 2 to 3600 seconds") }
        guard kubeAPIQPS > 0, kubeAPIQPS <= 100_000 else { throw ValidationError("--kube-api-qps \(kubeAPIQPS) is not from above 0 to 100000") }
        guard (1...100_000).contains(kubeAPIBurst) else { throw ValidationError("--kube-api-burst \(kubeAPIBurst) is not from 1 to 100000") }
        if let metricsPort, !(0...65535).contains(metricsPort) { throw ValidationError("--metrics-port \(metricsPort) is not a port") }
        if metricsListen != nil && metricsPort != nil { throw ValidationError("give --metrics-listen or --metrics-port, not both") }
        guard (0...10_000).contains(sleeperLimit) else { throw ValidationError("--sleeper-limit \(sleeperLimit) is not from 0 to 10000") }
        if let sleeperMemoryBudget { _ = try Self.bytes(sleeperMemoryBudget, flag: "--sleeper-memory-budget") }
        guard (1...256).contains(populatorWorkers) else { throw ValidationError("--populator-workers \(populatorWorkers) is not from 1 to 256") }
        for (flag, value) in [("--expectation-timeout", expectationTimeout), ("--stuck-scheduling-threshold", stuckSchedulingThreshold),
                              ("--stuck-starting-threshold", stuckStartingThreshold)] where value.duration <= .zero {
            throw ValidationError("\(flag) \(value) is not a duration above zero")
        }
    }

    /// A quantity of bytes, whole and not negative.
    static func bytes(_ text: String, flag: String) throws -> UInt64 {
        let quantity: Quantity
        do {
            quantity = try Quantity(text)
        } catch {
            throw ValidationError("\(flag) \(text): \(error)")
        }
        guard quantity.value >= 0, quantity.value < Decimal(UInt64.max / 2) else {
            throw ValidationError("\(flag) \(text) is not a size from 0 bytes (e.g. 16Gi)")
        }
        return UInt64(truncating: NSDecimalNumber(decimal: quantity.value))
    }

    func run() async throws {
        guard !namespace.isEmpty else {
            FileHandle.standardError.write(Data("Namespace must not be the empty string\n".utf8))
            throw ExitCode(1)
        }
        let logger = try LogSetup.bootstrap(component: "fma-controller", level: logLevel)
        logger.debug("open-file limit", metadata: ["limit": "\(DescriptorLimit.raiseToHard())"])
        // malloc: one arena and a fixed mmap threshold from before main (CFMAEarlyMalloc), then
        // one arena per worker, 2 to 8: the caches are the heap, the workers its busiest users.
        logger.debug("malloc", metadata: [
            "early": "\(String(cString: fma_early_malloc_summary()))",
            "arenas": "\(MallocArenas.limit(to: min(8, max(2, workers))).map(String.init) ?? "unchanged")",
        ])
        let registry = ServerRunner.bootstrapMetrics()
        let config: KubeConfig
        do {
            config = try KubeConfig.load(kubeconfig: kubeconfig, context: context, cluster: cluster, user: user, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("fma-controller: \(error)\n".utf8))
            throw ExitCode(1)
        }
        var kubeOptions = KubeClient.Options()
        kubeOptions.userAgent = DualPods.controllerName
        kubeOptions.qps = kubeAPIQPS
        kubeOptions.burst = kubeAPIBurst
        let client = KubeClient(config: config, options: kubeOptions, logger: logger)
        let token = try TokenSource.load(file: tokenFile)
        let me = identity ?? ProcessInfo.processInfo.environment["POD_NAME"] ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        func election(_ lease: String) -> LeaderElector.Options? {
            guard leaderElect else { return nil }
            var election = LeaderElector.Options(leaseName: lease, namespace: namespace, identity: me)
            election.leaseDuration = .seconds(leaseDuration)
            election.renewDeadline = .seconds(max(1, leaseDuration * 2 / 3))
            election.retryPeriod = .seconds(max(1, leaseDuration / 7))
            return election
        }
        let runBoth = !dualPods && !populator
        logger.info("starting", metadata: ["namespace": "\(namespace)", "cluster": "\(config.server)", "workers": "\(workers)",
                                           "dual_pods": "\(runBoth || dualPods)", "populator": "\(runBoth || populator)",
                                           "leader_elect": "\(leaderElect)", "verify_completion": "\(verifyCompletion)",
                                           "token": "\(token == nil ? "none" : "set")"])
        var services: [any Service] = []
        var synced: [@Sendable (@escaping @Sendable () -> Void) -> Void] = []
        if runBoth || dualPods {
            var options = DualPodsController.Options(namespace: namespace)
            options.workers = workers
            options.token = token
            options.verifyCompletion = verifyCompletion
            options.leaderElection = election(leaseName)
            options.sleeperLimit = sleeperLimit
            options.sleeperMemoryBudget = try sleeperMemoryBudget.map { try Self.bytes($0, flag: "--sleeper-memory-budget") }
            options.checkAcceleratorMemory = debugAcceleratorMemory
            let controller = DualPodsController(client: client, options: options, metrics: ControllerMetrics(registry: registry), logger: logger)
            services.append(ControllerService(controller))
            synced.append { controller.onSynced = $0 }
        }
        if runBoth || populator {
            var options = LauncherPopulator.Options(namespace: namespace)
            options.workers = populatorWorkers
            options.expectationTimeout = expectationTimeout.duration
            options.thresholds = LauncherPhase.Thresholds(scheduling: stuckSchedulingThreshold.duration, starting: stuckStartingThreshold.duration)
            options.leaderElection = election(populatorLeaseName)
            var populatorLogger = logger
            populatorLogger[metadataKey: "controller"] = "\(LauncherPopulator.componentName)"
            let populator = LauncherPopulator(client: client, options: options, metrics: PopulatorMetrics(registry: registry), logger: populatorLogger)
            services.append(ControllerService(populator))
            synced.append { populator.onSynced = $0 }
        }
        var readyLines = ["synced"]
        if let address = metricsListen ?? metricsPort.map({ "tcp://0.0.0.0:\($0)" }) {
            let (metrics, url) = try await ServerRunner.bindMetrics(listen: address, logger: logger)
            readyLines.append(url)
            services.append(metrics)
        }
        if let readyFile {
            // The ready file is written once every part has synced.
            let lines = readyLines
            let remaining = NIOLockedValueBox(synced.count)
            for register in synced {
                register {
                    if remaining.withLockedValue({ $0 -= 1; return $0 }) == 0 { try? ReadyFile.write(lines: lines, to: readyFile) }
                }
            }
        }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await client.shutdown()
    }
}
