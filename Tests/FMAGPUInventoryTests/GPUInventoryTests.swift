import FMAAPI
import FMAGPUInventory
import FMARPC
import FMATestSupport
import FMAWire
import Foundation
import Testing

/// The node inventory in this process: mock GPUs, translation, memory, watching.
@Suite("GPU inventory")
struct GPUInventoryTests {
    @Test("mock UUIDs look like NVIDIA's, are stable per node name and differ between nodes")
    func mockUUIDs() {
        let first = mockDevices(node: "node-a", count: 4)
        let again = mockDevices(node: "node-a", count: 4)
        let other = mockDevices(node: "node-b", count: 4)
        #expect(first == again)
        #expect(first.map(\.index) == [0, 1, 2, 3])
        #expect(Set(first.map(\.uuid)).count == 4)
        #expect(Set(first.map(\.uuid)).isDisjoint(with: other.map(\.uuid)))
        let shape = /GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
        #expect(first.allSatisfy { $0.uuid.wholeMatch(of: shape) != nil })
        #expect(first[2].uuid == MockGPUs.uuid(node: "node-a", index: 2))
        #expect(first.allSatisfy { $0.memoryTotalBytes == 80 << 30 && $0.memoryUsedBytes == 0 })
    }

    @Test("translate keeps the request's order and joins the indices for CUDA_VISIBLE_DEVICES")
    func translate() async throws {
        let inventory = GPUInventory(nodeName: "node-t", probe: MockProbe(node: "node-t", count: 4))
        let uuids = MockGPUs.uuids(node: "node-t", count: 4)
        let response = try await inventory.translate([uuids[3], uuids[1]])
        #expect(response.indices == [3, 1])
        #expect(response.cudaVisibleDevices == "3,1")
        #expect(try await inventory.translate([]).cudaVisibleDevices == "")
    }

    @Test("an unknown UUID is INVALID_ARGUMENT naming it and listing the node's; a repeated one too")
    func translateErrors() async throws {
        let inventory = GPUInventory(nodeName: "node-t", probe: MockProbe(node: "node-t", count: 2))
        let uuids = MockGPUs.uuids(node: "node-t", count: 2)
        let unknown = await #expect(throws: RPCError.self) { _ = try await inventory.translate([uuids[0], "GPU-nope"]) }
        #expect(unknown?.code == .invalidArgument)
        #expect(unknown?.message == "GPU UUID 'GPU-nope' not found on node node-t. Available UUIDs: ['\(uuids[0])', '\(uuids[1])']")
        #expect(unknown?.details == ["field": "uuids", "uuid": "GPU-nope"])
        let twice = await #expect(throws: RPCError.self) { _ = try await inventory.translate([uuids[1], uuids[1]]) }
        #expect(twice?.message == "GPU UUID '\(uuids[1])' is given twice")
        let memory = await #expect(throws: RPCError.self) { _ = try await inventory.memoryUsage(["GPU-x"]) }
        #expect(memory?.code == .invalidArgument)
    }

    @Test("memory usage: every GPU in index order, or the ones asked for")
    func memoryUsage() async throws {
        var devices = mockDevices(count: 3)
        devices[1].memoryUsedBytes = 3 << 30
        let inventory = GPUInventory(nodeName: "node-t", probe: ScriptedProbe(devices))
        let all = try await inventory.memoryUsage([])
        #expect(all.gpus.map(\.index) == [0, 1, 2])
        let one = try await inventory.memoryUsage([devices[1].uuid])
        #expect(one.gpus.count == 1)
        #expect(one.gpus[0].usedBytes == 3 << 30 && one.gpus[0].totalBytes == 80 << 30 && one.gpus[0].index == 1)
    }

    @Test("a watch over RPC sends the devices, then a change; sampling stops when the last watcher leaves")
    func watch() async throws {
        let probe = ScriptedProbe(mockDevices())
        let inventory = GPUInventory(nodeName: "node-t", probe: probe)
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/inv.sock")], services: [GPUInventoryService(inventory)]) { addresses in
                let client = GPUInventoryClient(RPCClient(address: addresses[0]))
                var first = try await client.watchDevices(intervalMs: 10).makeAsyncIterator()
                var second = try await client.watchDevices(intervalMs: 10).makeAsyncIterator()
                let initial = try #require(try await first.next())
                #expect(initial.type == .initial)
                #expect(initial.devices == mockDevices())
                #expect(try await second.next()?.type == .initial)

                probe.update { $0[0].memoryUsedBytes = 5 << 30 }
                let changed = try #require(try await first.next())
                #expect(changed.type == .changed)
                #expect(changed.devices[0].memoryUsedBytes == 5 << 30)
                #expect(changed.devices.count == 2, "a change carries every device")
                #expect(try await second.next()?.type == .changed)

                #expect(inventory.activeWatchers == 2)
                first = try await client.watchDevices(intervalMs: 10).makeAsyncIterator()  // the old stream is dropped: cancelled
                _ = try await first.next()
                try await waitUntil("the first watch to end") { inventory.activeWatchers == 2 }
                let before = probe.samples
                try await waitUntil("the remaining watchers to keep sampling") { probe.samples > before + 2 }

                _ = consume first
                _ = consume second
                try await waitUntil("every watch to end") { inventory.activeWatchers == 0 }
                let after = probe.samples
                try await Task.sleep(for: .milliseconds(100))
                #expect(probe.samples == after, "nobody watches: nothing samples")
            }
        }
    }

    @Test("a watch interval outside 10 ms ... 1 h is INVALID_ARGUMENT naming interval_ms")
    func watchInterval() async throws {
        let inventory = GPUInventory(nodeName: "node-t", probe: MockProbe(node: "node-t", count: 1))
        let error = await #expect(throws: RPCError.self) { try await inventory.watch(intervalMs: 5) { _ in } }
        #expect(error?.details["field"] == "interval_ms")
        #expect(error?.message == "interval_ms 5 is outside 10...3600000")
    }
}
