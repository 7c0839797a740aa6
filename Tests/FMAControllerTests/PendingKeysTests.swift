@testable import FMAController
import Testing

@Suite("PendingKeys: FMA's node-local queue depth")
struct PendingKeysTests {
    @Test("a key counts once while it waits; depth is per node; starting it removes it")
    func depthPerNode() {
        var pending = PendingKeys()
        let now = ContinuousClock.now
        let a = WorkKey.server(uid: "u1", name: "a", node: "n1")
        let b = WorkKey.launcher(podName: "l", node: "n1")
        let c = WorkKey.server(uid: "u2", name: "c", node: "n2")
        #expect(pending.add(a, at: now) == 1)
        #expect(pending.add(a, at: now + .seconds(1)) == nil, "an add of a waiting key is not a new add")
        #expect(pending.add(b, at: now) == 2)
        #expect(pending.add(c, at: now) == 1)
        let started = pending.start(a)
        #expect(started?.since == now, "the wait counts from the first add")
        #expect(started?.depth == 1)
        #expect(pending.start(a) == nil, "not waiting any more")
        #expect(pending.start(b)?.depth == 0)
        #expect(pending.add(a, at: now) == 1, "added again after it started")
    }
}
