import ArgumentParser
import FMACommand
import FMAJSON
import FMAKube
import FMAKubeModel
import FMARPC
import Foundation

/// `fma-bench scale`: fma-controller serving thousands of requesters on a thousand hollow nodes,
/// in waves.
struct ScaleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Serve one requester per GPU of --nodes hollow nodes, delete them all and serve them again; report the controller's latency and memory.",
        discussion: """
            Starts fma-devcluster with no simulated nodes and fma-controller beside it, both real \
            processes. The nodes are hollow: this process is their kubelet (it binds launcher \
            Pods, gives each Pod an address on the loopback and reports it Running, a requester \
            Ready once the controller relayed its readiness) and answers every requester's \
            fma.v1.Requester RPC; `fma-bench scale-launchers` processes (one per 250 nodes) \
            answer every launcher's fma.v1.Launcher RPC with instances made at once and reported \
            READY right after, as a launcher's /health probe would (each a small HTTP server for \
            the controller's verifying completion and /is_sleeping fallback). No \
            process runs per Pod, so the figures are the controller's and the API server's.

            Each node has --gpus-per-node GPUs and one InferenceServerConfig per GPU index. A \
            launcher serves one requester at a time, so the controller makes one launcher per \
            GPU. Wave 1 creates one requester per GPU (cold: each waits for its launcher); all \
            are deleted (their instances sleep in their launchers); wave 2 creates them again, \
            which should be hot. Per wave: requesters served and by which path, the hot-hit rate, \
            create → readiness relayed p50/p99, and the controller's reconcile latency p50/p99 \
            (fma_controller_reconcile_seconds, one key's processing).

            Needs about 2 × nodes × GPUs file descriptors in this process and in fma-controller \
            (it raises its soft limit to the hard one, which they inherit). Use a release \
            build: `make bench`.
            """)

    @Option(help: "Hollow nodes.")
    var nodes = 1000

    @Option(help: "GPUs per node: one requester each.")
    var gpusPerNode = 8

    @Option(help: "fma-controller's --workers; the default is the controller's own (2). More workers on 2 cores raise throughput a little and each reconcile's latency much more.")
    var controllerWorkers = 2

    @Option(help: "Requests at once when creating and deleting requesters.")
    var concurrency = 32

    @Option(help: "Seconds a wave may take before the unserved requesters are reported.")
    var waveTimeout = 1800

    @Option(help: "fma-controller's --log-level (its log is DIR/controller.log).")
    var controllerLogLevel = "warning"

    @Flag(help: "Keep the scratch directory (logs, kubeconfig) and print its path.")
    var keep = false

    func validate() throws {
        guard (1...ScaleLayout.maxNodes).contains(nodes) else { throw ValidationError("--nodes \(nodes) is not from 1 to \(ScaleLayout.maxNodes)") }
        guard (1...ScaleLayout.maxGPUsPerNode).contains(gpusPerNode) else { throw ValidationError("--gpus-per-node \(gpusPerNode) is not from 1 to \(ScaleLayout.maxGPUsPerNode)") }
        guard (1...256).contains(controllerWorkers) else { throw ValidationError("--controller-workers \(controllerWorkers) is not from 1 to 256") }
        guard (1...1024).contains(concurrency) else { throw ValidationError("--concurrency \(concurrency) is not from 1 to 1024") }
    }

    func run() async throws {
        let layout = ScaleLayout(nodes: nodes, gpusPerNode: gpusPerNode)
        try Self.raiseDescriptorLimit(needed: 2 * nodes * gpusPerNode + 200)
        let directory = try BenchScratch.makeDirectory()
        defer {
            if keep { Self.say("kept \(directory)") } else { try? FileManager.default.removeItem(atPath: directory) }
        }
        let token = UUID().uuidString
        guard let bearer = BearerToken(token) else { throw ValidationError("cannot make a bearer token") }
        try token.write(toFile: directory + "/token", atomically: true, encoding: .utf8)

        let cluster = try BenchScratch.spawn(BenchScratch.sibling("fma-devcluster"), [
            "serve", "--state-dir", directory + "/cluster", "--ready-file", directory + "/cluster.ready",
            "--nodes", "0", "--log-level", "warning",
        ])
        defer { BenchScratch.stop(cluster) }
        var launchers: [pid_t] = []
        defer { launchers.forEach(BenchScratch.stop) }
        for first in stride(from: 1, through: nodes, by: ScaleLayout.nodesPerLauncherProcess) {
            let last = min(nodes, first + ScaleLayout.nodesPerLauncherProcess - 1)
            launchers.append(try BenchScratch.spawn(CommandLine.arguments[0], [
                "scale-launchers", "--first-node", String(first), "--last-node", String(last), "--gpus-per-node", String(gpusPerNode),
                "--token-file", directory + "/token", "--ready-file", directory + "/launchers-\(first).ready",
            ]))
        }
        try await BenchScratch.waitForFile(directory + "/cluster.ready", what: "fma-devcluster", seconds: 60, process: cluster)
        for (index, first) in stride(from: 1, through: nodes, by: ScaleLayout.nodesPerLauncherProcess).enumerated() {
            try await BenchScratch.waitForFile(directory + "/launchers-\(first).ready", what: "fma-bench scale-launchers", seconds: 300, process: launchers[index])
        }

        let kubeconfig = directory + "/cluster/kubeconfig"
        let client = try KubeClient.unthrottled(kubeconfig: kubeconfig, qps: 100_000)
        let requesters = SimulatedRequesters(layout: layout)
        let kubelet = HollowKubelet(client: client, requesters: requesters)
        let waves = ScaleWaves(client: client, layout: layout, requesters: requesters, kubelet: kubelet, concurrency: concurrency)

        try await withThrowingTaskGroup(of: Void.self) { group in
            let servers = requesters.servers(token: bearer)
            for server in servers { group.addTask { try await server.run() } }
            for server in servers { _ = try await server.boundAddresses() }
            group.addTask { await kubelet.run(workers: 16) }
            try await waves.createNodesAndConfigs()

            let log = directory + "/controller.log"
            let controller = try BenchScratch.spawn(BenchScratch.sibling("fma-controller"), [
                // The dual-pods controller alone: the populator would delete the idle launchers
                // between the waves (no LauncherPopulationPolicy wants them), and wave 2 would start cold.
                "--dual-pods",
                "--namespace", ScaleLayout.namespace, "--kubeconfig", kubeconfig, "--token-file", directory + "/token",
                "--leader-elect=false", "--workers", String(controllerWorkers), "--kube-api-qps", "5000", "--kube-api-burst", "10000",
                "--metrics-listen", "tcp://127.0.0.1:0", "--log-level", controllerLogLevel, "--ready-file", directory + "/controller.ready",
            ], log: log)
            defer { BenchScratch.stop(controller) }
            try await BenchScratch.waitForFile(directory + "/controller.ready", what: "fma-controller", seconds: 120, process: controller)
            let metricsURL = try Self.metricsURL(readyFile: directory + "/controller.ready")

            let cores = ProcessInfo.processInfo.activeProcessorCount
            Self.say("fma-bench scale: \(nodes) hollow nodes × \(gpusPerNode) GPUs = \(nodes * gpusPerNode) requesters per wave, simulated launchers, \(cores) cores")
            var rows: [String] = []
            for wave in 1...2 {
                let before = try await ControllerScrape.fetch(metricsURL)
                let result = try await waves.serveAll(timeout: .seconds(waveTimeout), label: "wave \(wave)")
                let after = try await ControllerScrape.fetch(metricsURL)
                try? after.text.write(toFile: directory + "/metrics-wave-\(wave).txt", atomically: true, encoding: .utf8)
                let rss = Double(BenchScratch.residentKiB(controller)) / 1024
                rows.append(Self.row(wave: wave, result: result, before: before, after: after, rss: rss))
                try await waves.deleteAll(timeout: .seconds(waveTimeout), label: "wave \(wave)")
            }
            let peak = Double(BenchScratch.peakResidentKiB(controller)) / 1024
            let cpu = [("fma-controller", controller), ("fma-devcluster", cluster), ("fma-bench (hollow kubelet, requesters)", getpid())]
                .map { "\($0.0) \(String(format: "%.0f", BenchScratch.cpuSeconds($0.1))) s" }
            let launcherCPU = launchers.map(BenchScratch.cpuSeconds).reduce(0, +)
            group.cancelAll()
            await client.shutdown()

            Self.say("")
            Self.say("| wave | requesters | served | unserved | hot | warm | cold | hot-hit | create → relayed p50 ms | p99 ms | queue wait p99 ms | reconcile p50 ms | reconcile p99 ms | wall s | controller RSS MiB |")
            Self.say("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for row in rows { Self.say(row) }
            Self.say("")
            Self.say(String(format: "fma-controller peak RSS (VmHWM): %.1f MiB", peak))
            Self.say("CPU used over the whole run: " + cpu.joined(separator: ", ") + ", launcher simulators \(String(format: "%.0f", launcherCPU)) s")
        }
    }

    /// Prints a line at once (print's buffer holds it until the end when stdout is a file).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func row(wave: Int, result: ScaleWaves.Result, before: ControllerScrape, after: ControllerScrape, rss: Double) -> String {
        let paths = ["hot", "warm", "cold"].map { path in
            after.value("fma_controller_actuation_ready_seconds_count", ["path": path]) - before.value("fma_controller_actuation_ready_seconds_count", ["path": path])
        }
        let served = paths.reduce(0, +)
        let hotHit = served > 0 ? paths[0] / served * 100 : 0
        let reconcile = after.histogram("fma_controller_reconcile_seconds").subtracting(before.histogram("fma_controller_reconcile_seconds"))
        let wait = after.histogram("fma_controller_queue_wait_seconds").subtracting(before.histogram("fma_controller_queue_wait_seconds"))
        let latencies = Percentiles(result.servedAfter)
        var cells = ["\(wave)", "\(result.total)", "\(result.served)", "\(result.total - result.served)"]
        cells += paths.map { String(Int($0)) }
        cells.append(String(format: "%.1f %%", hotHit))
        cells.append(ControllerBench.ms(latencies.p50))
        cells.append(ControllerBench.ms(latencies.p99))
        cells.append(ControllerBench.ms(wait.quantile(0.99)))
        cells.append(ControllerBench.ms(reconcile.quantile(0.5)))
        cells.append(ControllerBench.ms(reconcile.quantile(0.99)))
        cells.append(String(format: "%.1f", result.wallSeconds))
        cells.append(String(format: "%.1f", rss))
        return "| " + cells.joined(separator: " | ") + " |"
    }

    static func metricsURL(readyFile: String) throws -> String {
        let lines = try String(contentsOfFile: readyFile, encoding: .utf8).split(separator: "\n")
        guard let line = lines.first(where: { $0.contains("http://") }), let start = line.range(of: "http://") else {
            throw ValidationError("fma-controller's ready file \(readyFile) names no metrics URL")
        }
        var url = String(line[start.lowerBound...]).trimmingCharacters(in: .whitespaces)
        if !url.hasSuffix("/metrics") { url += "/metrics" }
        return url
    }

    /// Raises the soft limit on open files to the hard one; fails when even that is too low.
    static func raiseDescriptorLimit(needed: Int) throws {
        let limit = DescriptorLimit.raiseToHard()
        guard limit >= needed else {
            throw ValidationError("this needs about \(needed) open files, but the limit is \(limit): give fewer --nodes or --gpus-per-node, or raise the hard limit (ulimit -Hn)")
        }
    }
}
