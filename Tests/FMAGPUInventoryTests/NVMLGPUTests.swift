import FMAGPUInventory
import FMARPC
import FMATestSupport
import Foundation
import Testing

/// On a machine with an NVIDIA driver only (`make test-gpu`): NVML as fma sees it must agree with
/// `nvidia-smi`. Skipped elsewhere.
@Suite("NVML on real GPUs", .enabled(if: nvmlAvailable, "needs an NVIDIA driver (libnvidia-ml.so.1)"))
struct NVMLGPUTests {
    /// What `nvidia-smi --query-gpu=index,uuid,memory.total --format=csv` says: index, UUID, MiB.
    static func nvidiaSMI(_ dir: String) async throws -> [(index: UInt32, uuid: String, totalMiB: UInt64)] {
        let run = try await runCommand("/usr/bin/env", ["nvidia-smi", "--query-gpu=index,uuid,memory.total", "--format=csv"], directory: dir)
        guard run.termination.exitCode == 0 else { throw TestSupportError("nvidia-smi failed: \(run.stderr)") }
        return try run.stdout.split(separator: "\n").dropFirst().map { line in
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3, let index = UInt32(fields[0]),
                  let total = UInt64(fields[2].replacingOccurrences(of: " MiB", with: "")) else {
                throw TestSupportError("unexpected nvidia-smi line: \(line)")
            }
            return (index, fields[1], total)
        }
    }

    @Test("NVML's devices match nvidia-smi: indices, UUIDs, total memory")
    func enumeration() async throws {
        try await withTemporaryDirectory { dir in
            let expected = try await Self.nvidiaSMI(dir)
            let probe = try NVMLProbe()
            let devices = try await probe.sample()
            #expect(devices.map(\.index) == expected.map(\.index))
            #expect(devices.map(\.uuid) == expected.map(\.uuid))
            #expect(devices.map { $0.memoryTotalBytes >> 20 } == expected.map(\.totalMiB))
            #expect(devices.allSatisfy { !$0.name.isEmpty && $0.memoryUsedBytes <= $0.memoryTotalBytes })
        }
    }

    @Test("node mode without a mock serves NVML's devices; Translate gives nvidia-smi's indices")
    func nodeMode() async throws {
        try await withTemporaryDirectory { dir in
            let expected = try await Self.nvidiaSMI(dir)
            let server = try await InventoryProcess(["--listen", "unix:\(dir)/gpu.sock"], directory: dir)
            defer { server.stop() }
            let client = GPUInventoryClient(try server.client())
            let listed = try await client.listDevices()
            #expect(listed.source == "nvml")
            #expect(listed.devices.map(\.uuid) == expected.map(\.uuid))
            let translated = try await client.translate(expected.reversed().map(\.uuid))
            #expect(translated.indices == expected.reversed().map(\.index))
        }
    }

    @Test("a requester given the first GPU reports it and its memory, from NVML")
    func requester() async throws {
        try await withTemporaryDirectory { dir in
            let first = try #require(try await Self.nvidiaSMI(dir).first)
            let requester = try await InventoryProcess(["requester", "--listen", "unix:\(dir)/r.sock", "--http-host", "127.0.0.1",
                                                        "--probes-port", "0", "--spi-port", "0"], directory: dir,
                                                       environment: ["NVIDIA_VISIBLE_DEVICES": first.uuid], name: "requester")
            defer { requester.stop() }
            let client = RequesterClient(try requester.client())
            #expect(try await client.accelerators() == [first.uuid])
            let memory = try await client.acceleratorMemory()
            #expect(Array(memory.keys) == [first.uuid])
            #expect(memory[first.uuid].map { $0 <= first.totalMiB } == true)
        }
    }
}
