import FMAAPI
import Testing

@Suite("Mock GPU UUIDs")
struct MockGPUsTests {
    @Test("the derivation is pinned: other tools and the one-machine cluster reproduce these")
    func pinned() {
        #expect(MockGPUs.uuid(node: "node-a", index: 0) == "GPU-1e17fdac-9ac4-47a4-1f23-941b3f23338d")
        #expect(MockGPUs.uuid(node: "node-a", index: 1) == "GPU-2b5d26fb-dd49-621d-098b-4081b0238e71")
    }

    @Test("UUIDs have NVIDIA's shape and differ across indices and nodes")
    func shape() {
        let a = MockGPUs.uuids(node: "node-a", count: 8)
        let b = MockGPUs.uuids(node: "node-b", count: 8)
        #expect(Set(a + b).count == 16)
        for uuid in a {
            let parts = uuid.dropFirst(4).split(separator: "-").map(\.count)
            #expect(uuid.hasPrefix("GPU-") && parts == [8, 4, 4, 4, 12], "\(uuid)")
        }
    }
}
