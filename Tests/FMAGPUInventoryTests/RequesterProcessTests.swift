import FMAAPI
import FMAGPUInventory
import FMARPC
import FMATestSupport
import Foundation
import Testing

/// `fma-gpu-inventory requester` as a process, called over RPC, by curl and by fmactl.
@Suite("fma-gpu-inventory requester mode as a process")
struct RequesterProcessTests {
    static let gpus = ["GPU-aaaaaaaa-0000-4000-8000-000000000001", "GPU-bbbbbbbb-0000-4000-8000-000000000002"]

    /// A requester on a Unix socket and loopback HTTP ports chosen by the kernel.
    static func start(_ dir: String, visible: String? = gpus.joined(separator: ","), extra: [String] = [],
                      name: String = "requester") async throws -> InventoryProcess {
        var environment = ["NVIDIA_VISIBLE_DEVICES": visible ?? "", "CUDA_VISIBLE_DEVICES": "", "PROBES_PORT": "", "SPI_PORT": ""]
        if visible == nil { environment["NVIDIA_VISIBLE_DEVICES"] = "none" }
        return try await InventoryProcess(["requester", "--listen", "unix:\(dir)/\(name).sock", "--http-host", "127.0.0.1",
                                           "--probes-port", "0", "--spi-port", "0", "--nvml-library", "/nonexistent/libnvidia-ml.so.1"] + extra,
                                          directory: dir, environment: environment, name: name)
    }

    @Test("the ready file lists RPC, probes, SPI and metrics; accelerators come from NVIDIA_VISIBLE_DEVICES")
    func accelerators() async throws {
        try await withTemporaryDirectory { dir in
            let requester = try await Self.start(dir, extra: ["--metrics-listen", "tcp://127.0.0.1:0"])
            defer { requester.stop() }
            #expect(requester.lines.count == 4)
            #expect(requester.lines[0] == "unix:\(dir)/requester.sock")
            #expect(requester.lines[1].hasPrefix("http://127.0.0.1:") && requester.lines[2].hasPrefix("http://127.0.0.1:"))
            #expect(requester.lines[3].hasSuffix("/metrics"))
            let rpc = try requester.client()
            #expect(try await RequesterClient(rpc).accelerators() == Self.gpus)
            let spi = try await curl("GET", requester.lines[2] + RequesterHTTP.acceleratorsPath, directory: dir)
            #expect(spi.status == 200)
            #expect(spi.body == #"["\#(Self.gpus[0])","\#(Self.gpus[1])"]"# + "\n")
            let health = try await HealthClient(rpc).check()
            #expect(health.services.contains(RequesterService.serviceName))

            requester.process.signal(SIGTERM)
            #expect(try await requester.process.waitForExit().exitCode == 0)
        }
    }

    @Test("SetReady flips /ready 503 → 200 → 503 as curl sees it; the SPI's become-ready does the same")
    func readiness() async throws {
        try await withTemporaryDirectory { dir in
            let requester = try await Self.start(dir)
            defer { requester.stop() }
            let ready = requester.lines[1] + RequesterHTTP.readyPath
            let client = RequesterClient(try requester.client())
            #expect(try await curl("GET", ready, directory: dir) == (503, "Service Unavailable\n"))
            #expect(try await client.isReady() == false)
            try await client.setReady(true)
            #expect(try await curl("GET", ready, directory: dir) == (200, "OK\n"))
            #expect(try await client.isReady())
            try await client.setReady(false)
            #expect(try await curl("GET", ready, directory: dir) == (503, "Service Unavailable\n"))

            let spi = requester.lines[2]
            #expect(try await curl("POST", spi + RequesterHTTP.becomeReadyPath, body: "ignored", directory: dir) == (200, "OK\n"))
            #expect(try await curl("GET", ready, directory: dir).status == 200)
            #expect(try await client.isReady())
            #expect(try await curl("POST", spi + RequesterHTTP.becomeUnreadyPath, directory: dir) == (200, "OK\n"))
            #expect(try await curl("GET", ready, directory: dir).status == 503)
        }
    }

    @Test("FMA's SPI: methods, unknown paths, set-log parameters, no GPUs, no memory source")
    func spiSurface() async throws {
        try await withTemporaryDirectory { dir in
            let requester = try await Self.start(dir, visible: nil)
            defer { requester.stop() }
            let spi = requester.lines[2]
            #expect(try await curl("GET", spi + RequesterHTTP.acceleratorsPath, directory: dir) == (500, "no GPUs found\n"))
            #expect(try await curl("GET", spi + RequesterHTTP.becomeReadyPath, directory: dir).status == 405)
            #expect(try await curl("POST", spi + RequesterHTTP.acceleratorsPath, directory: dir).status == 405)
            #expect(try await curl("GET", spi + "/v1/nothing", directory: dir).status == 404)
            #expect(try await curl("GET", requester.lines[1] + "/healthz", directory: dir).status == 404)
            #expect(try await curl("POST", spi + RequesterHTTP.setLogPath, body: "x", directory: dir) == (400, "Missing startPos parameter\n"))
            #expect(try await curl("POST", spi + RequesterHTTP.setLogPath + "?startPos=seven", body: "x", directory: dir)
                    == (400, "Failed to parse \"seven\" as an int64: invalid syntax\n"))
            let memory = try await curl("GET", spi + RequesterHTTP.acceleratorMemoryPath, directory: dir)
            #expect(memory.status == 500)
            #expect(memory.body.hasPrefix("GPU memory is unknown: NVML is unavailable"))
            let rpc = await #expect(throws: RPCError.self) { _ = try await RequesterClient(try requester.client()).acceleratorMemory() }
            #expect(rpc?.code == .unavailable)
        }
    }

    @Test("memory in use from a node inventory: MiB per accelerator, JSON as FMA's SPI gives it")
    func memoryFromInventory() async throws {
        try await withTemporaryDirectory { dir in
            let map = dir + "/gpu-map.json"
            try #"{"\#(Self.gpus[0])": {"index": 0, "memoryUsedMiB": 1024}, "\#(Self.gpus[1])": 1, "GPU-other": {"index": 2, "memoryUsedMiB": 7}}"#
                .write(toFile: map, atomically: true, encoding: .utf8)
            let node = try await InventoryProcess(["--mock-file", map, "--listen", "unix:\(dir)/node.sock"], directory: dir, name: "node")
            defer { node.stop() }
            let requester = try await Self.start(dir, extra: ["--inventory", node.lines[0]])
            defer { requester.stop() }
            let spi = try await curl("GET", requester.lines[2] + RequesterHTTP.acceleratorMemoryPath, directory: dir)
            #expect(spi.status == 200)
            #expect(spi.body == #"{"\#(Self.gpus[0])":1024,"\#(Self.gpus[1])":0}"# + "\n")
            #expect(try await RequesterClient(try requester.client()).acceleratorMemory() == [Self.gpus[0]: 1024, Self.gpus[1]: 0])
        }
    }

    @Test("log relay over the SPI and RPC with random chunks: 400 exactly when required, never 5xx, stdout is the prefix")
    func logRelay() async throws {
        try await withTemporaryDirectory { dir in
            let requester = try await Self.start(dir)
            defer { requester.stop() }
            let client = RequesterClient(try requester.client())
            var generator = SystemRandomNumberGenerator()
            let truth = (0..<600).map { _ in UInt8.random(in: UInt8(ascii: "a")...UInt8(ascii: "z"), using: &generator) }
            var stored = 0
            var round = 0
            while stored < truth.count - truth.count / 60 {
                round += 1
                #expect(round < 2000)
                let (start, chunk) = LogChunks.next(stored: stored, truth: truth, using: &generator)
                let expectBad = start < 0 || start > stored
                if round.isMultiple(of: 2) {
                    let answer = try await curl("POST", requester.lines[2] + RequesterHTTP.setLogPath + "?startPos=\(start)",
                                                body: String(decoding: chunk, as: UTF8.self), directory: dir)
                    #expect(answer.status < 500, "\(answer.body)")
                    #expect((answer.status >= 400) == expectBad, "start \(start), \(stored) stored: \(answer.status) \(answer.body)")
                    #expect(answer.body.hasSuffix("\r\n"))
                    if !expectBad { stored = max(stored, start + chunk.count) }
                } else {
                    do throws(RPCError) {
                        stored = Int(try await client.appendLog(start: Int64(start), chunk))
                        #expect(!expectBad, "start \(start) was accepted")
                    } catch {
                        #expect(expectBad, "start \(start), \(stored) stored: \(error)")
                        #expect(error.code == .invalidArgument)
                    }
                }
                let written = Array(requester.process.stdout.utf8)
                #expect(written == Array(truth.prefix(stored)), "the requester's stdout is the log's prefix")
            }
        }
    }

    @Test("a port already taken: exit 10 for the SPI, 11 for the probes")
    func listenFailures() async throws {
        try await withTemporaryDirectory { dir in
            let first = try await Self.start(dir)
            defer { first.stop() }
            let spiPort = try #require(first.lines[2].split(separator: ":").last.map(String.init))
            let probesPort = try #require(first.lines[1].split(separator: ":").last.map(String.init))
            let base = ["requester", "--http-host", "127.0.0.1", "--listen", "unix:\(dir)/second.sock"]
            let spi = try await runCommand(binDirectory + "/fma-gpu-inventory", base + ["--spi-port", spiPort, "--probes-port", "0"], directory: dir)
            #expect(spi.termination.exitCode == 10)
            #expect(spi.stderr.contains("cannot listen for the SPI"))
            let probes = try await runCommand(binDirectory + "/fma-gpu-inventory", base + ["--spi-port", "0", "--probes-port", probesPort], directory: dir)
            #expect(probes.termination.exitCode == 11)
            #expect(probes.stderr.contains("cannot listen for the probes"))
            let badEnvironment = try await runCommand(binDirectory + "/fma-gpu-inventory", base, directory: dir,
                                                      environment: ["SPI_PORT": "eighty"])
            #expect(badEnvironment.termination.exitCode == 64)
            #expect(badEnvironment.stderr.contains("SPI_PORT=eighty is not a port from 0 to 65535"))
        }
    }

    @Test("fmactl requester accelerators, ready and append-log")
    func fmactl() async throws {
        try await withTemporaryDirectory { dir in
            let requester = try await Self.start(dir)
            defer { requester.stop() }
            let fmactl = binDirectory + "/fmactl"
            let address = requester.lines[0]
            let accelerators = try await runCommand(fmactl, ["requester", "accelerators", address], directory: dir)
            #expect(accelerators.stdout == Self.gpus.joined(separator: "\n") + "\n")
            let notReady = try await runCommand(fmactl, ["requester", "ready", address], directory: dir)
            #expect(notReady.termination.exitCode == 1)
            #expect(notReady.stdout == "false\n")
            let set = try await runCommand(fmactl, ["requester", "ready", address, "true", "-o", "json"], directory: dir)
            #expect(set.stdout == #"{"ready":true}"# + "\n")
            #expect(try await runCommand(fmactl, ["requester", "ready", address], directory: dir).termination.exitCode == 0)
            try "relayed line\n".write(toFile: dir + "/chunk", atomically: true, encoding: .utf8)
            let appended = try await runCommand(fmactl, ["requester", "append-log", address, "--start", "0", dir + "/chunk"], directory: dir)
            #expect(appended.stdout == "13\n")
            let gap = try await runCommand(fmactl, ["requester", "append-log", address, "--start", "99", dir + "/chunk"], directory: dir)
            #expect(gap.termination.exitCode == 2)
            #expect(gap.stderr == "fmactl: INVALID_ARGUMENT: Starting position 99 is beyond the current contentLength=13\n")
            #expect(requester.process.stdout == "relayed line\n")
        }
    }
}
