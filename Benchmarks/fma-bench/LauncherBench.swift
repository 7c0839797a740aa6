import ArgumentParser
import FMAAPI
import FMARPC
import FMAWire
import Foundation

/// `fma-bench launcher`: warm (zygote fork) against cold (exec) starts, Get/List throughput with
/// 100 instances, and deletes that never hold up other calls.
struct LauncherBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launcher",
        abstract: "Measure fma-launcher: create-to-healthy warm vs cold, Get/List calls/s, delete timing.")

    @Option(help: "Warm creates to time.") var warm: Int = 30
    @Option(help: "Cold creates to time.") var cold: Int = 5
    @Option(help: "Module the fake server imports (its import cost is what preloading saves).") var importModule: String = "scipy.stats"
    @Option(help: "Instances present while measuring Get/List.") var instances: Int = 100
    @Option(help: "Seconds per Get/List case.") var seconds: Double = 2

    func run() async throws {
        let directory = try BenchScratch.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let executableDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let python = URL(fileURLWithPath: executableDirectory).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("python").path

        print("fma-bench launcher: fake vLLM importing \(importModule); \(ProcessInfo.processInfo.activeProcessorCount) cores")
        let warmLauncher = try await BenchLauncher.start(executableDirectory, directory + "/warm", python: python,
                                                         ["--spawn", "fork", "--preload", "fma_fakevllm.server", "--preload", importModule])
        defer { warmLauncher.stop() }
        let coldLauncher = try await BenchLauncher.start(executableDirectory, directory + "/cold", python: python, ["--spawn", "exec"])
        defer { coldLauncher.stop() }

        // (a) Create → healthy.
        let warmTimes = try await createToHealthy(warmLauncher.client, count: warm, prefix: "warm")
        let coldTimes = try await createToHealthy(coldLauncher.client, count: cold, prefix: "cold")
        let warmP50 = percentile(warmTimes, 0.5), coldP50 = percentile(coldTimes, 0.5)
        print("")
        print("## (a) CreateInstance → /health answers 200")
        print("")
        print("| start | runs | p50 ms | p90 ms | max ms |")
        print("| --- | ---: | ---: | ---: | ---: |")
        print("| cold (`--spawn exec`) | \(cold) | \(f(coldP50)) | \(f(percentile(coldTimes, 0.9))) | \(f(coldTimes.max() ?? 0)) |")
        print("| warm (zygote fork) | \(warm) | \(f(warmP50)) | \(f(percentile(warmTimes, 0.9))) | \(f(warmTimes.max() ?? 0)) |")
        print("")
        print("warm is \(f(coldP50 / max(warmP50, 0.001)))× faster than cold at the p50")

        // (b) Get / List with many instances.
        var ids: [String] = []
        for index in 0..<instances {
            let port = try freePort()
            _ = try await warmLauncher.client.create(fake(id: "bulk-\(index)", port: port))
            ids.append("bulk-\(index)")
        }
        print("")
        print("## (b) Get and List with \(instances) instances (calls/s, back-to-back per connection)")
        print("")
        print("| call | 1 connection | 8 connections |")
        print("| --- | ---: | ---: |")
        for (name, call) in [("GetInstance", 0), ("ListInstances (full detail)", 1), ("ListInstances (ids only)", 2)] {
            var rates: [Double] = []
            for connections in [1, 8] {
                var calls: RoundTrips = []
                for index in 0..<connections {
                    let client = LauncherClient(RPCClient(address: warmLauncher.address))
                    let id = ids[index % ids.count]
                    switch call {
                    case 0: calls.append { _ = try await client.get(id) }
                    case 1: calls.append { _ = try await client.list() }
                    default: calls.append { _ = try await client.list(idsOnly: true) }
                    }
                }
                _ = try await measure(calls, for: .milliseconds(300))
                rates.append(try await measure(calls, for: .milliseconds(Int64(seconds * 1000))).callsPerSecond)
            }
            print("| \(name) | \(f(rates[0], 0)) | \(f(rates[1], 0)) |")
        }

        // (c) Deletes.
        let client = warmLauncher.client
        var rightAfter: [Double] = []
        var ready: [Double] = []
        for index in 0..<10 {
            let port = try freePort()
            _ = try await client.create(fake(id: "quick-\(index)", port: port))
            let started = ContinuousClock.now
            _ = try await client.delete("quick-\(index)")
            rightAfter.append(milliseconds(ContinuousClock.now - started))
            let readyPort = try freePort()
            _ = try await client.create(fake(id: "ready-\(index)", port: readyPort))
            try await waitHealthy(port: readyPort)
            let readyStart = ContinuousClock.now
            _ = try await client.delete("ready-\(index)")
            ready.append(milliseconds(ContinuousClock.now - readyStart))
        }
        // A delete that waits out a 2 s grace period while Gets go on.
        let stubbornPort = try freePort()
        _ = try await client.create(fake(id: "stubborn", port: stubbornPort, ["--ignore-sigterm"]))
        try await waitHealthy(port: stubbornPort)
        let deleting = Task { try await client.delete("stubborn", gracePeriodSeconds: 2) }
        var getLatencies: [Double] = []
        let other = LauncherClient(RPCClient(address: warmLauncher.address))
        let until = ContinuousClock.now + .milliseconds(1500)
        while ContinuousClock.now < until {
            let before = ContinuousClock.now
            _ = try await other.get(ids[0])
            getLatencies.append(milliseconds(ContinuousClock.now - before))
        }
        let deleteTook = try await {
            let start = ContinuousClock.now
            _ = try await deleting.value
            return milliseconds(ContinuousClock.now - start)
        }()
        print("")
        print("## (c) Delete")
        print("")
        print("| case | p50 ms | max ms |")
        print("| --- | ---: | ---: |")
        print("| right after create (default 10 s grace) | \(f(percentile(rightAfter, 0.5))) | \(f(rightAfter.max() ?? 0)) |")
        print("| of a ready instance | \(f(percentile(ready, 0.5))) | \(f(ready.max() ?? 0)) |")
        print("| GetInstance during a 2 s-grace delete (\(getLatencies.count) calls) | \(f(percentile(getLatencies, 0.5))) | \(f(getLatencies.max() ?? 0)) |")
        print("")
        print("the SIGTERM-ignoring instance's delete returned after a further \(f(deleteTook)) ms")
        _ = try await client.deleteAll()
    }

    private func fake(id: String, port: Int, _ extra: [String] = []) -> Fma_V1_CreateInstanceRequest {
        .with {
            $0.id = id
            $0.options = ["--host", "127.0.0.1", "--port", "\(port)", "--import", importModule] + extra
        }
    }

    private func createToHealthy(_ client: LauncherClient, count: Int, prefix: String) async throws -> [Double] {
        var times: [Double] = []
        for index in 0..<count {
            let port = try freePort()
            let started = ContinuousClock.now
            _ = try await client.create(fake(id: "\(prefix)-\(index)", port: port))
            try await waitHealthy(port: port)
            times.append(milliseconds(ContinuousClock.now - started))
            _ = try await client.delete("\(prefix)-\(index)")
        }
        return times
    }

    private func waitHealthy(port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if LoopbackProbe.isHealthy(port: port) { return }
            try await Task.sleep(for: .microseconds(500))
        }
        throw ValidationError("the instance on port \(port) never answered /health")
    }

    private func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    private func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    private func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
}

/// A launcher process started for a benchmark.
struct BenchLauncher {
    let pid: pid_t
    let address: RPCAddress
    var client: LauncherClient { LauncherClient(RPCClient(address: address)) }

    static func start(_ binDirectory: String, _ directory: String, python: String, _ extra: [String]) async throws -> BenchLauncher {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let socket = directory + "/l.sock"
        let arguments = [binDirectory + "/fma-launcher", "serve", "--listen", "unix:\(socket)", "--state-dir", directory + "/state",
                         "--python-path", python, "--entrypoint", "fma_fakevllm", "--ready-file", directory + "/ready",
                         "--log-level", "warning", "--max-instances", "512"] + extra
        let pid = try BenchScratch.spawn(arguments[0], Array(arguments.dropFirst()))
        try await BenchScratch.waitForFile(directory + "/ready", what: "fma-launcher", seconds: 60)
        return BenchLauncher(pid: pid, address: .unix(path: socket))
    }

    func stop() {
        BenchScratch.stop(pid)
    }
}

/// A TCP port that was free a moment ago on 127.0.0.1.
func freePort() throws -> Int {
    guard let port = LoopbackProbe.freePort() else { throw ValidationError("no free port on 127.0.0.1") }
    return port
}
