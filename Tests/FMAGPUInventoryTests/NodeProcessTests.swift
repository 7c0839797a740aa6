import FMAAPI
import FMAGPUInventory
import FMARPC
import FMATestSupport
import FMAWire
import Foundation
import Testing

/// `fma-gpu-inventory` in node mode, as a process.
@Suite("fma-gpu-inventory node mode as a process")
struct NodeProcessTests {
    @Test("--mock: the same node name gives the same UUIDs across runs, another node others")
    func mockStability() async throws {
        try await withTemporaryDirectory { dir in
            var runs: [[String]] = []
            for (round, node) in ["node-a", "node-a", "node-b"].enumerated() {
                let server = try await InventoryProcess(["--mock", "3", "--listen", "unix:\(dir)/n\(round).sock"], directory: dir,
                                                        environment: ["NODE_NAME": node], name: "node\(round)")
                defer { server.stop() }
                let rpc = try server.client()
                let listed = try await GPUInventoryClient(rpc).listDevices()
                #expect(listed.nodeName == node)
                #expect(listed.source == "mock")
                #expect(listed.devices.map(\.index) == [0, 1, 2])
                #expect(listed.devices.allSatisfy { $0.name == "Mock GPU" && $0.memoryTotalBytes == 80 << 30 })
                let health = try await HealthClient(rpc).check()
                #expect(health.component == "fma-gpu-inventory")
                #expect(health.services.contains(GPUInventoryService.serviceName))
                runs.append(listed.devices.map(\.uuid))
                await rpc.close()
            }
            #expect(runs[0] == runs[1])
            #expect(runs[0] == MockGPUs.uuids(node: "node-a", count: 3))
            #expect(Set(runs[0]).isDisjoint(with: runs[2]))
        }
    }

    @Test("--mock-file in FMA's gpu-map format; a replaced file reaches a watcher; sampling stops with the last watcher")
    func mockFileAndWatch() async throws {
        try await withTemporaryDirectory { dir in
            let map = dir + "/gpu-map.json"
            try #"{"GPU-11111111-2222-3333-4444-555555555555": 1, "GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee": 0}"#
                .write(toFile: map, atomically: true, encoding: .utf8)
            let server = try await InventoryProcess(["--mock-file", map, "--node-name", "node-f", "--listen", "unix:\(dir)/f.sock",
                                                     "--metrics-listen", "tcp://127.0.0.1:0"], directory: dir)
            defer { server.stop() }
            let client = GPUInventoryClient(try server.client())
            let listed = try await client.listDevices()
            #expect(listed.source == "mock-file")
            #expect(listed.devices.map(\.uuid) == ["GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "GPU-11111111-2222-3333-4444-555555555555"])
            let translated = try await client.translate(["GPU-11111111-2222-3333-4444-555555555555", "GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"])
            #expect(translated.cudaVisibleDevices == "1,0")

            var events = try await client.watchDevices(intervalMs: 20).makeAsyncIterator()
            #expect(try await events.next()?.type == .initial)
            try #"{"GPU-11111111-2222-3333-4444-555555555555": {"index": 1, "memoryUsedMiB": 2048}, "GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee": 0}"#
                .write(toFile: map, atomically: true, encoding: .utf8)
            let changed = try #require(try await events.next())
            #expect(changed.type == .changed)
            #expect(changed.devices[1].memoryUsedBytes == 2048 << 20)
            let memory = try await client.memoryUsage(["GPU-11111111-2222-3333-4444-555555555555"])
            #expect(memory.gpus.map(\.usedBytes) == [2048 << 20])

            let metricsURL = server.lines[1]
            #expect(try await Self.metric("fma_gpu_watchers", at: metricsURL, dir) == 1)
            _ = consume events
            try await Self.waitForMetric("fma_gpu_watchers", at: metricsURL, dir) { $0 == 0 }
            let samples = try await Self.metric(#"fma_gpu_samples_total{source="mock-file"}"#, at: metricsURL, dir)
            try await Task.sleep(for: .milliseconds(200))  // ten watch intervals
            #expect(try await Self.metric(#"fma_gpu_samples_total{source="mock-file"}"#, at: metricsURL, dir) == samples,
                    "no watcher: no sampling")
        }
    }

    @Test("translation errors reach the caller: INVALID_ARGUMENT naming the UUID and listing the known ones")
    func translateError() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await InventoryProcess(["--mock", "2", "--node-name", "node-e", "--listen", "unix:\(dir)/e.sock"], directory: dir)
            defer { server.stop() }
            let known = MockGPUs.uuids(node: "node-e", count: 2)
            let error = await #expect(throws: RPCError.self) { _ = try await GPUInventoryClient(try server.client()).translate(["GPU-unknown"]) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "GPU UUID 'GPU-unknown' not found on node node-e. Available UUIDs: ['\(known[0])', '\(known[1])']")
        }
    }

    @Test("fmactl gpus list, translate, memory, watch and map-entry; a failed call exits 2 naming the code")
    func fmactl() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await InventoryProcess(["--mock", "2", "--node-name", "node-c", "--listen", "unix:\(dir)/c.sock"], directory: dir)
            defer { server.stop() }
            let fmactl = binDirectory + "/fmactl"
            let address = server.lines[0]
            let uuids = MockGPUs.uuids(node: "node-c", count: 2)
            let list = try await runCommand(fmactl, ["gpus", "list", address], directory: dir)
            #expect(list.termination.exitCode == 0, "\(list.stderr)")
            #expect(list.stdout.hasPrefix("node node-c (mock): 2 GPUs\nINDEX  UUID"))
            #expect(list.stdout.contains("1      \(uuids[1])  Mock GPU  0         81920      -\n"))
            let json = try await runCommand(fmactl, ["gpus", "list", address, "-o", "json"], directory: dir)
            let decoded = try Fma_V1_ListDevicesResponse(jsonString: json.stdout)
            #expect(decoded.devices.map(\.uuid) == uuids)
            let translate = try await runCommand(fmactl, ["gpus", "translate", address, uuids[1], uuids[0]], directory: dir)
            #expect(translate.stdout == "1,0\n")
            let memory = try await runCommand(fmactl, ["gpus", "memory", address], directory: dir)
            #expect(memory.stdout.contains("0      \(uuids[0])  0         81920"))
            let watch = try await runCommand(fmactl, ["gpus", "watch", address, "--count", "1", "-o", "json"], directory: dir)
            #expect(try Fma_V1_DeviceEvent(jsonString: watch.stdout).type == .initial)
            let entry = try await runCommand(fmactl, ["gpus", "map-entry", address], directory: dir)
            #expect(entry.stdout == "{\"\(uuids[0])\": 0, \"\(uuids[1])\": 1}\n")
            let unknown = try await runCommand(fmactl, ["gpus", "translate", address, "GPU-x"], directory: dir)
            #expect(unknown.termination.exitCode == 2)
            #expect(unknown.stderr.hasPrefix("fmactl: INVALID_ARGUMENT: GPU UUID 'GPU-x' not found on node node-c."))
        }
    }

    @Test("without NVML and without a mock: a clear message and exit status 69")
    func nvmlUnavailable() async throws {
        try await withTemporaryDirectory { dir in
            let run = try await runCommand(binDirectory + "/fma-gpu-inventory",
                                           ["--nvml-library", "/nonexistent/libnvidia-ml.so.1", "--listen", "unix:\(dir)/x.sock"], directory: dir)
            #expect(run.termination.exitCode == 69)
            #expect(run.stderr.hasPrefix("fma-gpu-inventory: NVML is unavailable: cannot load /nonexistent/libnvidia-ml.so.1: /nonexistent/libnvidia-ml.so.1: cannot open shared object file"))
            #expect(run.stderr.contains("--mock N"))
            #expect(run.stderr.contains("--mock-file FILE"))
            #expect(!FileManager.default.fileExists(atPath: dir + "/x.sock"))
            let help = try await runCommand(binDirectory + "/fma-gpu-inventory", ["node", "--help"], directory: dir)
            #expect(help.stdout.contains("69 when NVML is unavailable"))
        }
    }

    @Test("bad usage exits 64 naming the problem: a bad --mock-file, --mock with --mock-file")
    func badUsage() async throws {
        try await withTemporaryDirectory { dir in
            try #"{"GPU-a": -3}"#.write(toFile: dir + "/bad.json", atomically: true, encoding: .utf8)
            let badFile = try await runCommand(binDirectory + "/fma-gpu-inventory", ["--mock-file", dir + "/bad.json", "--listen", "unix:\(dir)/x.sock"],
                                               directory: dir)
            #expect(badFile.termination.exitCode == 64)
            #expect(badFile.stderr.contains(#"entry "GPU-a": the index must be a whole number from 0 to 4294967295, not -3"#))
            let both = try await runCommand(binDirectory + "/fma-gpu-inventory", ["--mock", "1", "--mock-file", dir + "/bad.json"], directory: dir)
            #expect(both.termination.exitCode == 64)
            #expect(both.stderr.contains("give --mock or --mock-file, not both"))
        }
    }

    @Test("NVML through the shim, on a stand-in library: devices, memory, processes; a failing init exits 69",
          .enabled(if: compilerAvailable, "needs cc to build the stand-in libnvidia-ml"))
    func fakeNVML() async throws {
        try await withTemporaryDirectory { dir in
            let library = try await buildFakeNVML(in: dir)
            let server = try await InventoryProcess(["--nvml-library", library, "--node-name", "node-g", "--listen", "unix:\(dir)/g.sock"],
                                                    directory: dir)
            defer { server.stop() }
            let listed = try await GPUInventoryClient(try server.client()).listDevices()
            #expect(listed.source == "nvml")
            #expect(listed.devices.map(\.uuid) == ["GPU-fa4e0000-0000-4000-8000-000000000000", "GPU-fa4e0001-0000-4000-8000-000000000001"])
            #expect(listed.devices.map(\.name) == ["Fake H100", "Fake H100"])
            #expect(listed.devices.map(\.memoryUsedBytes) == [1 << 30, 2 << 30])
            #expect(listed.devices[0].processes.isEmpty)
            #expect(listed.devices[1].processes.map(\.pid) == [77, 4242], "processes sorted by pid")
            #expect(listed.devices[1].processes.map(\.usedMemoryBytes) == [0, 512 << 20], "unknown usage is 0")

            let failing = try await runCommand(binDirectory + "/fma-gpu-inventory", ["--nvml-library", library, "--listen", "unix:\(dir)/h.sock"],
                                               directory: dir, environment: ["FAKE_NVML_INIT_RESULT": "9"])
            #expect(failing.termination.exitCode == 69)
            #expect(failing.stderr.contains("NVML is unavailable: nvmlInit failed: Driver Not Loaded (NVML error 9)"))
        }
    }

    /// The value of the metric line starting with `name` on the server's /metrics.
    static func metric(_ name: String, at url: String, _ dir: String) async throws -> Double? {
        let scraped = try await curl("GET", url, directory: dir)
        for line in scraped.body.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    static func waitForMetric(_ name: String, at url: String, _ dir: String, _ condition: (Double?) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(try await metric(name, at: url, dir)) {
            guard ContinuousClock.now < deadline else { throw TestSupportError("\(name) never met the condition") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
