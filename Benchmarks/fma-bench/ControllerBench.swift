import ArgumentParser
import FMAAPI
import FMAJSON
import FMAKube
import FMAKubeModel
import FMARPC
import Foundation

/// `fma-bench controller`: hot, warm and cold actuations through fma-controller on
/// fma-devcluster with real launchers, fake vLLM instances and requester stubs.
struct ControllerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Serve requesters hot, warm and cold through fma-controller; report where each actuation's time went.",
        discussion: """
            Starts fma-devcluster (one node with one mock GPU, so a requester always gets the GPU \
            its sleeper was made for) and fma-controller beside it, from this executable's \
            directory. Then, --runs times per path, creates a server-requesting Pod, waits until it \
            is Ready, and deletes it: cold (the launcher is deleted before each run), warm (a new \
            InferenceServerConfig each run: a new instance in the running launcher, which evicts \
            its least recently used sleeper when full) and hot (the same config each run: its \
            instance sleeps in the launcher between runs). Then direct mode (the ConfigMap gpu-map \
            names the GPU): direct-cold (a new spec each run: a new provider Pod running the fake \
            vLLM, the least recently used sleeper evicted past --sleeper-limit 1) and direct-hot \
            (the same spec each run: its provider sleeps between runs and is woken). For direct \
            mode the controller's time includes the provider Pod's start and its readiness probe.

            For each actuation the controller logs the time from the requester's GPUs being known \
            to readiness relayed, and the parts of it spent in fma RPC calls to the launcher, in a \
            new launcher's start and in the instance's own server (answering after a create or a \
            wake, and the verifying completion). The rest is the controller's own overhead: \
            Kubernetes writes, decisions and the readiness relay. The fake vLLM wakes instantly.

            Last, --runs times, it kills a served requester's instance (SIGKILL) and times the \
            instance's exit to the requester's deletion, as a watch on the Pod sees it.

            Use a release build: `make bench`.
            """)

    @Option(help: "Actuations per path (and instance kills).")
    var runs = 50

    func run() async throws {
        let directory = try BenchScratch.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let token = UUID().uuidString
        try token.write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        let cluster = try BenchScratch.spawn(BenchScratch.sibling("fma-devcluster"), [
            "serve", "--state-dir", directory + "/cluster", "--ready-file", directory + "/cluster.ready",
            "--nodes", "1", "--gpus-per-node", "1", "--log-level", "warning",
        ])
        defer { BenchScratch.stop(cluster) }
        try await BenchScratch.waitForFile(directory + "/cluster.ready", what: "fma-devcluster", seconds: 60)
        let kubeconfig = directory + "/cluster/kubeconfig"
        let log = directory + "/controller.log"
        let controller = try BenchScratch.spawn(BenchScratch.sibling("fma-controller"), [
            "--namespace", "default", "--kubeconfig", kubeconfig, "--token-file", directory + "/token",
            "--leader-elect=false", "--ready-file", directory + "/controller.ready",
            // The dual-pods controller alone: with no LauncherPopulationPolicy the populator
            // would delete every launcher once unbound (FMA's orphan cleanup), so no run is hot.
            "--dual-pods",
        ], log: log)
        defer { BenchScratch.stop(controller) }
        try await BenchScratch.waitForFile(directory + "/controller.ready", what: "fma-controller", seconds: 60, process: controller)
        let client = KubeClient(config: try KubeConfig.load(kubeconfig: kubeconfig))
        let bench = ControllerActuations(client: client, directory: directory, token: token, runs: runs)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("fma-bench controller: \(runs) actuations per path, 1 node × 1 GPU, fake vLLM (instant wake), \(cores) cores")
        try await bench.createConfigs(checkout: try Self.checkout())

        try await bench.createGPUMap()

        var logged: [String: [ActuationLogLine]] = [:]
        var wall: [String: [Double]] = [:]
        for path in ["cold", "warm", "hot", "direct-cold", "direct-hot"] {
            if path == "hot" { try await bench.seedHotInstance() }
            if path == "direct-hot" { try await bench.seedHotInstance(direct: true) }
            let before = ActuationLogLine.parse(log: log).count
            for index in 0..<runs {
                let seconds = try await bench.actuate(path: path, index: index)
                wall[path, default: []].append(seconds)
            }
            logged[path] = Array(ActuationLogLine.parse(log: log).dropFirst(before))
            print("  \(path): \(runs) runs done")
        }
        let exits = try await bench.instanceExits()
        let rss = Double(BenchScratch.residentKiB(controller)) / 1024
        await client.shutdown()

        print("")
        print("Per actuation, from the controller's log: requester's GPUs known → readiness relayed, ms")
        print("")
        print("| path | n | total p50 | total p99 | launcher RPC p50 | launcher start p50 | instance server p50 | controller p50 | controller p99 | create → Ready p50 |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for path in ["hot", "warm", "cold", "direct-hot", "direct-cold"] {
            let lines = logged[path] ?? []
            let logPath = path.hasPrefix("direct-") ? String(path.dropFirst("direct-".count)) : path
            let matching = lines.filter { $0.path == logPath }
            print(Self.row(path: path, matching, wall: wall[path] ?? []))
            if matching.count != lines.count {
                let others = lines.filter { $0.path != logPath }.map(\.path)
                print("  (\(others.count) of the \(path) runs were served another way: \(others))")
            }
        }
        print("")
        let exitFigures = Percentiles(exits)
        print("instance exit (SIGKILL) → requester deletion seen by a watch: p50 \(Self.ms(exitFigures.p50)) ms, p99 \(Self.ms(exitFigures.p99)) ms (n=\(exits.count))")
        print(String(format: "fma-controller RSS at the end: %.1f MiB", rss))
    }

    static func row(path: String, _ lines: [ActuationLogLine], wall: [Double]) -> String {
        let total = Percentiles(lines.map(\.total))
        let calls = Percentiles(lines.map(\.launcherCalls))
        let start = Percentiles(lines.map(\.launcherStart))
        let instance = Percentiles(lines.map(\.instance))
        let controller = Percentiles(lines.map(\.controller))
        let created = Percentiles(wall)
        var cells = [path, String(lines.count)]
        cells.append(ms(total.p50))
        cells.append(ms(total.p99))
        cells.append(ms(calls.p50))
        cells.append(ms(start.p50))
        cells.append(ms(instance.p50))
        cells.append(ms(controller.p50))
        cells.append(ms(controller.p99))
        cells.append(ms(created.p50))
        return "| " + cells.joined(separator: " | ") + " |"
    }

    static func ms(_ seconds: Double) -> String {
        String(format: "%.1f", seconds * 1000)
    }

    /// The checkout this executable was built in (where python/ is).
    static func checkout() throws -> String {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.path + "/python/fma_fakevllm/__init__.py") { return url.path }
            url = url.deletingLastPathComponent()
        }
        throw ValidationError("cannot find the checkout's python/ directory above \(CommandLine.arguments[0])")
    }
}

/// The median and 99th percentile of a sample (0 when empty).
struct Percentiles {
    var p50 = 0.0
    var p99 = 0.0

    init(_ values: [Double]) {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return }
        p50 = sorted[sorted.count / 2]
        p99 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
    }
}

/// One "inference server ready" line of the controller's log (`key=value` metadata).
struct ActuationLogLine {
    var path: String
    var total: Double
    var launcherCalls: Double
    var launcherStart: Double
    var instance: Double
    var controller: Double

    static func parse(log path: String) -> [ActuationLogLine] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var result: [ActuationLogLine] = []
        for line in text.split(separator: "\n") where line.contains("inference server ready") {
            if let parsed = ActuationLogLine(line) { result.append(parsed) }
        }
        return result
    }

    init?(_ line: Substring) {
        var fields: [String: String] = [:]
        for word in line.split(separator: " ") {
            let parts = word.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let path = fields["path"], let total = fields["seconds"].flatMap({ Double($0) }) else { return nil }
        self.path = path
        self.total = total
        launcherCalls = Double(fields["launcher_call_seconds"] ?? "") ?? 0
        launcherStart = Double(fields["launcher_start_seconds"] ?? "") ?? 0
        instance = Double(fields["instance_seconds"] ?? "") ?? 0
        controller = Double(fields["controller_seconds"] ?? "") ?? 0
    }
}
