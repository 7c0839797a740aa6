import ArgumentParser
import FMACommand
import FMAJSON
import FMAKube
import FMAKubeModel
import Foundation
import Logging

/// `fma-bench populator`: the launcher populator filling a thousand nodes, then replacing every
/// launcher after a LauncherConfig change.
struct PopulatorBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "populator",
        abstract: "Time the launcher populator filling --nodes nodes with launchers, then replacing them all after a LauncherConfig change.",
        discussion: """
            Starts fma-devcluster with --nodes simulated nodes and `fma-controller --populator` beside \
            it, both real processes. The launchers' container is simulated by the devcluster (its \
            command is not one of fma's, so the Pod turns Running and Ready at once without a \
            process), so the figures are the populator's and the API server's. A policy selecting \
            every node asks for one launcher per node: the time until all exist and until all are \
            Ready. Then the LauncherConfig gets a new label in its Pod template, so every unbound \
            launcher is stale: the time until each node has one launcher of the new template, Ready, \
            and no old one is left. Per phase: the API server's pod creates and deletes (the aim is \
            one of each per launcher, no retry storm) and the populator's own counts, and its RSS.
            """)

    @Option(help: "Simulated nodes (one launcher each).")
    var nodes = 1000

    @Option(help: "Mock GPUs per node (the policy selects nodes with at least one).")
    var gpusPerNode = 8

    @Option(help: "Seconds a phase may take.")
    var phaseTimeout = 600

    @Flag(help: "Keep the scratch directory (logs, kubeconfig) and print its path.")
    var keep = false

    func validate() throws {
        guard (1...1000).contains(nodes) else { throw ValidationError("--nodes \(nodes) is not from 1 to 1000") }
        guard (1...64).contains(gpusPerNode) else { throw ValidationError("--gpus-per-node \(gpusPerNode) is not from 1 to 64") }
    }

    static let namespace = "default"
    static let configName = "bench-launcher"

    func run() async throws {
        let directory = try BenchScratch.makeDirectory()
        defer {
            if keep { ScaleBench.say("kept \(directory)") } else { try? FileManager.default.removeItem(atPath: directory) }
        }
        let cluster = try BenchScratch.spawn(BenchScratch.sibling("fma-devcluster"), [
            "serve", "--state-dir", directory + "/cluster", "--ready-file", directory + "/cluster.ready", "--in-memory",
            "--nodes", String(nodes), "--gpus-per-node", String(gpusPerNode), "--log-level", "warning", "--metrics-listen", "tcp://127.0.0.1:0",
        ], log: directory + "/cluster.log")
        defer { BenchScratch.stop(cluster) }
        try await BenchScratch.waitForFile(directory + "/cluster.ready", what: "fma-devcluster", seconds: 120, process: cluster)
        let readyLines = try String(contentsOfFile: directory + "/cluster.ready", encoding: .utf8).split(separator: "\n").map(String.init)
        let kubeconfig = readyLines[1]
        let clusterMetrics = readyLines[2] + (readyLines[2].hasSuffix("/metrics") ? "" : "/metrics")
        let client = try KubeClient.unthrottled(kubeconfig: kubeconfig)
        defer { Task { await client.shutdown() } }
        _ = try await client.create(LauncherConfig(json: Self.launcherConfig(label: "one")))

        let controller = try BenchScratch.spawn(BenchScratch.sibling("fma-controller"), [
            "--namespace", Self.namespace, "--kubeconfig", kubeconfig, "--populator", "--leader-elect=false",
            "--kube-api-qps", "5000", "--kube-api-burst", "10000", "--metrics-listen", "tcp://127.0.0.1:0",
            "--log-level", "warning", "--ready-file", directory + "/controller.ready",
        ], log: directory + "/controller.log")
        defer { BenchScratch.stop(controller) }
        try await BenchScratch.waitForFile(directory + "/controller.ready", what: "fma-controller", seconds: 120, process: controller)
        let controllerMetrics = try ScaleBench.metricsURL(readyFile: directory + "/controller.ready")

        // The bench watches launchers through an informer, so that watching costs the API server little.
        var podOptions = Informer<KubeListerWatcher<Pod>>.Options()
        podOptions.transform = { pod in
            var kept = Pod(name: pod.metadata.name, namespace: pod.metadata.namespace)
            kept.metadata = pod.metadata
            kept.status.conditions = pod.status.conditions.filter { $0.type == "Ready" }
            return kept
        }
        let launchers = Informer(client.listerWatcher(Pod.self, namespace: Self.namespace,
                                                      labelSelector: LabelSelector([.equals("app.kubernetes.io/component", "launcher")])),
                                 options: podOptions, logger: Logger(label: "fma.bench.populator"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await launchers.run() }
            _ = await launchers.waitForSync()
            ScaleBench.say("fma-bench populator: \(nodes) simulated nodes × \(gpusPerNode) GPUs, one launcher per node, \(ProcessInfo.processInfo.activeProcessorCount) cores")
            var rows: [String] = []

            let fill = try await Phase.start(clusterMetrics, controllerMetrics)
            _ = try await client.create(LauncherPopulationPolicy(json: Self.policy()))
            let exist = try await waitFor("\(nodes) launchers exist") { pods in pods.filter { $0.metadata.deletionTimestamp == nil }.count >= nodes }
            let ready = try await waitFor("\(nodes) launchers Ready") { pods in pods.filter { $0.isReady && $0.metadata.deletionTimestamp == nil }.count >= nodes }
            rows.append(try await fill.row("policy created: fill", exist: exist, ready: ready, controller: controller))

            let oldHash = launchers.cache.list().first?.metadata.annotations["dual-pods.llm-d.ai/launcher-populator-template-hash"] ?? ""
            let replace = try await Phase.start(clusterMetrics, controllerMetrics)
            _ = try await client.update(LauncherConfig.self, name: Self.configName, namespace: Self.namespace) { config in
                config.json[path: ["spec", "podTemplate", "metadata"]] = ["labels": ["bench-generation": "two"]]
            }
            func current(_ pod: Pod) -> Bool {
                pod.metadata.deletionTimestamp == nil && pod.metadata.annotations["dual-pods.llm-d.ai/launcher-populator-template-hash"] != oldHash
            }
            let replaced = try await waitFor("\(nodes) launchers of the new template") { pods in pods.filter(current).count >= nodes }
            let settled = try await waitFor("\(nodes) new launchers Ready, no old one left") { pods in
                pods.count == nodes && pods.allSatisfy { current($0) && $0.isReady }
            }
            rows.append(try await replace.row("LauncherConfig changed: replace all", exist: replaced, ready: settled, controller: controller))
            group.cancelAll()

            ScaleBench.say("")
            ScaleBench.say("| phase | launchers exist s | all Ready s | pod creates | pod deletes | other pod writes | populator created | populator deleted | populator RSS MiB |")
            ScaleBench.say("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for row in rows { ScaleBench.say(row) }
            ScaleBench.say("")
            ScaleBench.say(String(format: "fma-controller --populator peak RSS (VmHWM): %.1f MiB; CPU %.1f s", Double(BenchScratch.peakResidentKiB(controller)) / 1024,
                                  BenchScratch.cpuSeconds(controller)))
        }

        /// Waits for the launcher cache to satisfy `condition`; the seconds since `start` of the phase.
        func waitFor(_ what: String, _ condition: ([Pod]) -> Bool) async throws -> ContinuousClock.Instant {
            let deadline = ContinuousClock.now + .seconds(phaseTimeout)
            while ContinuousClock.now < deadline {
                if condition(launchers.cache.list()) { return .now }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw ValidationError("timed out after \(phaseTimeout) s waiting for \(what)")
        }
    }

    /// A phase's start: the time and both servers' counters.
    struct Phase {
        let started: ContinuousClock.Instant
        let cluster: ControllerScrape
        let controller: ControllerScrape
        let clusterURL: String
        let controllerURL: String

        static func start(_ clusterURL: String, _ controllerURL: String) async throws -> Phase {
            Phase(started: .now, cluster: try await ControllerScrape.fetch(clusterURL), controller: try await ControllerScrape.fetch(controllerURL),
                  clusterURL: clusterURL, controllerURL: controllerURL)
        }

        func row(_ name: String, exist: ContinuousClock.Instant, ready: ContinuousClock.Instant, controller pid: pid_t) async throws -> String {
            let cluster = try await ControllerScrape.fetch(clusterURL)
            func api(_ verb: String, _ resource: String) -> Int {
                Int(cluster.value("fma_devcluster_api_requests_total", ["verb": verb, "resource": resource])
                    - self.cluster.value("fma_devcluster_api_requests_total", ["verb": verb, "resource": resource]))
            }
            // The populator counts a create once its answer arrived: wait (bounded) for the last ones.
            var controller = try await ControllerScrape.fetch(controllerURL)
            func own(_ name: String) -> Int { Int(controller.value(name) - self.controller.value(name)) }
            let settle = ContinuousClock.now + .seconds(10)
            while own("fma_populator_launchers_created_total") < api("create", "pods"), ContinuousClock.now < settle {
                try await Task.sleep(for: .milliseconds(50))
                controller = try await ControllerScrape.fetch(controllerURL)
            }
            let otherWrites = ["update", "patch"].map { api($0, "pods") }.reduce(0, +)
            let cells = [name, String(format: "%.2f", seconds(exist - started)), String(format: "%.2f", seconds(ready - started)),
                         "\(api("create", "pods"))", "\(api("delete", "pods"))", "\(otherWrites)",
                         "\(own("fma_populator_launchers_created_total"))", "\(own("fma_populator_launchers_deleted_total"))",
                         String(format: "%.1f", Double(BenchScratch.residentKiB(pid)) / 1024)]
            return "| " + cells.joined(separator: " | ") + " |"
        }

        private func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
    }

    static func launcherConfig(label: String) -> JSONObject {
        [
            "apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "LauncherConfig",
            "metadata": ["name": .string(configName), "namespace": .string(namespace)],
            "spec": ["maxInstances": 4, "podTemplate": ["spec": [
                "containers": [["name": "inference-server", "image": "example.com/launcher:1", "command": ["/usr/bin/launcher"],
                                "ports": [["name": "fma-rpc", "containerPort": 8100]]]],
            ]]],
        ]
    }

    static func policy() -> JSONObject {
        [
            "apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "LauncherPopulationPolicy",
            "metadata": ["name": "every-gpu-node", "namespace": .string(namespace)],
            "spec": ["enhancedNodeSelector": ["labelSelector": ["matchLabels": [:]], "allocatableResources": ["nvidia.com/gpu": ["min": "1"]]],
                     "countForLauncher": [["launcherConfigName": .string(configName), "launcherCount": 1]]],
        ]
    }
}
