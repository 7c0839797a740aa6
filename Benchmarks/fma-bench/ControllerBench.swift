import ArgumentParser
import FMAJSON
import FMAKube
import FMAKubeModel
import Foundation

/// `fma-bench controller`: hot, warm and cold actuations through fma-controller on
/// fma-devcluster with real launchers, fake vLLM instances and requester stubs.
struct ControllerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Serve requesters hot, warm and cold through fma-controller; report where each actuation's time went.",
        discussion: """
            Starts fma-devcluster (one node, one mock GPU, so a requester always gets the GPU its \
            sleeper was made for) and fma-controller beside it, from this executable's directory. \
            Then, --runs times per path, creates a server-requesting Pod, waits until the controller \
            has relayed readiness, and deletes it: hot (the same InferenceServerConfig again, its \
            instance asleep in the launcher), warm (a new config each time: a new instance in the \
            launcher, evicting the least recently used sleeper when it is full) and cold (the \
            launcher is deleted between runs). For each actuation the controller logs the time from \
            the requester's GPUs being known to readiness relayed, and the parts spent in fma RPC \
            calls to the launcher, in a new launcher's start, and in the instance's own server \
            (answering after a create or wake, and the verifying completion); the remainder is the \
            controller's own overhead (Kubernetes writes, decisions, the readiness relay). Finally \
            it kills the bound instance --runs times and measures instance exit → the requester's \
            deletion as seen by a watch. Use a release build: `make bench`.
            """)

    @Option(help: "Actuations per path.")
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
        let controller = try BenchScratch.spawn("/bin/sh", ["-c", "exec \"$0\" \"$@\" 2>\(log)", BenchScratch.sibling("fma-controller"),
                                                            "--namespace", "default", "--kubeconfig", kubeconfig, "--token-file", directory + "/token",
                                                            "--leader-elect", "false", "--ready-file", directory + "/controller.ready"])
        defer { BenchScratch.stop(controller) }
        try await BenchScratch.waitForFile(directory + "/controller.ready", what: "fma-controller", seconds: 60)
        let client = KubeClient(config: try KubeConfig.load(kubeconfig: kubeconfig))
        defer { Task { await client.shutdown() } }
        let bench = Actuations(client: client, directory: directory, runs: runs)
        print("fma-bench controller: \(runs) actuations per path, 1 node × 1 GPU, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        try await bench.setUp()

        var samples: [String: [Actuation]] = [:]
        var wall: [String: [Double]] = [:]
        for path in ["cold", "warm", "hot"] {
            let before = Actuation.parse(log: log).count
            for index in 0..<runs {
                let seconds = try await bench.actuate(path: path, index: index)
                wall[path, default: []].append(seconds)
            }
            samples[path] = Array(Actuation.parse(log: log).dropFirst(before))
        }
        let exits = try await bench.instanceExits()

        print("")
        print("Per actuation, requester's GPUs known → readiness relayed (from the controller's log), ms:")
        print("")
        print("| path | n | total p50 | total p99 | launcher RPC p50 | launcher start p50 | instance server p50 | controller p50 | controller p99 | requester create → Ready p50 |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for path in ["hot", "warm", "cold"] {
            let all = samples[path] ?? []
            let matching = all.filter { $0.path == path }
            let total = Self.milliseconds(matching.map(\.total))
            let calls = Self.milliseconds(matching.map(\.launcherCalls))
            let start = Self.milliseconds(matching.map(\.launcherStart))
            let instance = Self.milliseconds(matching.map(\.instance))
            let controller = Self.milliseconds(matching.map(\.controller))
            let created = Self.milliseconds(wall[path] ?? [])
            let cells: [String] = [path, String(matching.count), Self.format(total.p50), Self.format(total.p99), Self.format(calls.p50),
                                   Self.format(start.p50), Self.format(instance.p50), Self.format(controller.p50),
                                   Self.format(controller.p99), Self.format(created.p50)]
            let row = "| " + cells.joined(separator: " | ") + " |"
            print(row)
            if matching.count != all.count {
                print("  (\(all.count - matching.count) of the \(path) runs were served another way: \(all.map(\.path)))")
            }
        }
        let sortedExits = exits.sorted()
        if !sortedExits.isEmpty {
            let exitFigures = Self.milliseconds(sortedExits)
            print("")
            let p50 = Self.format(exitFigures.p50)
            let p99 = Self.format(exitFigures.p99)
            print("instance exit (SIGKILL) → requester deletion seen by a watch: p50 \(p50) ms, p99 \(p99) ms (n=\(sortedExits.count))")
        }
        print(String(format: "fma-controller RSS at the end: %.1f MiB", Double(BenchScratch.residentKiB(controller)) / 1024))
    }
}

extension ControllerBench {
    /// The median and 99th percentile of `seconds`, in milliseconds.
    static func milliseconds(_ seconds: [Double]) -> (p50: Double, p99: Double) {
        let sorted = seconds.sorted()
        guard !sorted.isEmpty else { return (0, 0) }
        let p50 = sorted[sorted.count / 2] * 1000
        let p99 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))] * 1000
        return (p50, p99)
    }

    static func format(_ milliseconds: Double) -> String {
        String(format: "%.1f", milliseconds)
    }
}

/// One "inference server ready" line of the controller's log.
struct Actuation {
    var path: String
    var total: Double
    var launcherCalls: Double
    var launcherStart: Double
    var instance: Double
    var controller: Double

    static func parse(log path: String) -> [Actuation] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").filter { $0.contains("inference server ready") }.compactMap { line in
            var fields: [String: String] = [:]
            for word in line.split(separator: " ") {
                let parts = word.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
            }
            func number(_ key: String) -> Double {
                guard let text = fields[key], let value = Double(text) else { return 0 }
                return value
            }
            guard let path = fields["path"], fields["seconds"] != nil else { return nil }
            return Actuation(path: path, total: number("seconds"), launcherCalls: number("launcher_call_seconds"),
                             launcherStart: number("launcher_start_seconds"), instance: number("instance_seconds"),
                             controller: number("controller_seconds"))
        }
    }
}

/// The objects and steps of the benchmark.
struct Actuations {
    let client: KubeClient
    let directory: String
    let runs: Int
    let namespace = "default"

    func setUp() async throws {
        let root = try Self.checkout()
        let command: [JSONValue] = [
            "fma-launcher", "serve", "--listen", "tcp://$(POD_IP):8100", "--token-file", .string(directory + "/token"),
            "--state-dir", .string(directory + "/launchers/$(POD_NAME)"), "--python-path", .string(root + "/python"),
            "--entrypoint", "fma_fakevllm", "--preload", "fma_fakevllm.server", "--mock-gpus", "1",
            "--rest-host", "$(POD_IP)", "--rest-port", "8001",
        ]
        let ports: [JSONValue] = [["name": "fma-rpc", "containerPort": 8100], ["name": "launcher", "containerPort": 8001]]
        var container: JSONObject = ["name": "inference-server", "image": "fma/launcher"]
        container["command"] = .array(command)
        container["ports"] = .array(ports)
        var podSpec: JSONObject = ["terminationGracePeriodSeconds": 2]
        podSpec["containers"] = .array([.object(container)])
        var spec: JSONObject = ["maxInstances": 3]
        spec["podTemplate"] = .object(["spec": .object(podSpec)])
        var launcherConfig: JSONObject = ["apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "LauncherConfig"]
        launcherConfig["metadata"] = .object(["name": "lc", "namespace": .string(namespace)])
        launcherConfig["spec"] = .object(spec)
        _ = try await client.create(LauncherConfig(json: launcherConfig))
        var names: [String] = ["hot", "exit-0-isc", "exit-1-isc"]
        for index in 0..<runs {
            names.append("warm-\(index)")
            names.append("cold-\(index)")
        }
        for name in names {
            var isc = InferenceServerConfig(name: name, namespace: namespace)
            var spec = InferenceServerConfigSpec()
            spec.launcherConfigName = "lc"
            var config = ModelServerConfig()
            config.port = 8005
            config.options = "--model fake/\(name)"
            spec.modelServerConfig = config
            isc.spec = spec
            _ = try await client.create(isc)
        }
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

    func requester(_ name: String, isc: String) -> Pod {
        let command: [JSONValue] = ["fma-gpu-inventory", "requester", "--listen", "tcp://$(POD_IP):8082",
                                    "--token-file", .string(directory + "/token"), "--http-host", "$(POD_IP)"]
        let ports: [JSONValue] = [["name": "fma-rpc", "containerPort": 8082]]
        let probe: JSONObject = ["httpGet": ["path": "/ready", "port": 8080], "periodSeconds": 1]
        var container: JSONObject = ["name": "inference-server", "image": "fma/requester"]
        container["command"] = .array(command)
        container["ports"] = .array(ports)
        container["resources"] = ["limits": ["nvidia.com/gpu": "1"]]
        container["readinessProbe"] = .object(probe)
        var metadata: JSONObject = ["name": .string(name), "namespace": .string(namespace)]
        metadata["annotations"] = JSONValue(stringMap: ["dual-pods.llm-d.ai/inference-server-config": isc])
        var spec: JSONObject = ["terminationGracePeriodSeconds": 1]
        spec["containers"] = .array([.object(container)])
        var json: JSONObject = ["apiVersion": "v1", "kind": "Pod"]
        json["metadata"] = .object(metadata)
        json["spec"] = .object(spec)
        return Pod(json: json)
    }

    /// One requester served and deleted; returns create → Ready (wall clock, includes the
    /// kubelet's probe period).
    func actuate(path: String, index: Int) async throws -> Double {
        let name = "\(path)-\(index)"
        let isc = path == "hot" ? "hot" : name
        if path == "hot" && index == 0 {
            // The sleeper the hot runs wake.
            _ = try await actuateOnce(name: "hot-seed", isc: "hot")
        }
        if path == "cold" {
            for pod in try await client.list(Pod.self, namespace: namespace).items where pod.metadata.labels["dual-pods.llm-d.ai/launcher-config-name"] != nil {
                _ = try await client.delete(Pod.self, name: pod.metadata.name, namespace: namespace)
                try await waitGone(pod.metadata.name)
            }
        }
        return try await actuateOnce(name: name, isc: isc)
    }

    private func actuateOnce(name: String, isc: String) async throws -> Double {
        let start = ContinuousClock.now
        _ = try await client.create(requester(name, isc: isc))
        try await waitFor(name, "Ready") { $0?.isReady == true }
        let seconds = (ContinuousClock.now - start).seconds
        _ = try await client.delete(Pod.self, name: name, namespace: namespace)
        try await waitGone(name)
        return seconds
    }

    /// Kills the bound instance of a served requester and times its deletion.
    func instanceExits() async throws -> [Double] {
        var results: [Double] = []
        for index in 0..<runs {
            let name = "exit-\(index)"
            _ = try await client.create(requester(name, isc: "exit-\(index % 2)-isc"))
            try await waitFor(name, "Ready") { $0?.isReady == true }
            guard let launcherName = try await client.get(Pod.self, name: name, namespace: namespace).metadata.labels["dual-pods.llm-d.ai/dual"],
                  let launcherIP = try await client.get(Pod.self, name: launcherName, namespace: namespace).status.podIP,
                  let pid = Self.instancePID(launcherIP: launcherIP, port: 8001) else {
                print("  exit run \(index): could not find the instance's pid; skipped")
                continue
            }
            let killed = ContinuousClock.now
            kill(pid, SIGKILL)
            try await waitFor(name, "deleting") { $0 == nil || $0?.isTerminating == true }
            results.append((ContinuousClock.now - killed).seconds)
            try await waitGone(name)
        }
        return results
    }

    /// The running instance's pid from the launcher's REST API (`GET /v2/vllm/instances`).
    static func instancePID(launcherIP: String, port: Int) -> Int32? {
        guard let data = try? Data(contentsOf: URL(string: "http://\(launcherIP):\(port)/v2/vllm/instances")!),
              let instances = (try? JSONValue(parsing: Array(data)))?["instances"]?.array else { return nil }
        for instance in instances where instance["status"]?.string == "running" {
            if let pid = instance["pid"]?.int { return Int32(pid) }
        }
        return nil
    }

    func waitGone(_ name: String) async throws {
        try await waitFor(name, "gone") { $0 == nil }
    }

    func waitFor(_ name: String, _ what: String, timeout: Duration = .seconds(120), _ condition: (Pod?) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let pod: Pod?
            do { pod = try await client.get(Pod.self, name: name, namespace: namespace) } catch where error.isNotFound { pod = nil }
            if condition(pod) { return }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw ValidationError("\(name) was not \(what) within \(timeout)")
    }
}
