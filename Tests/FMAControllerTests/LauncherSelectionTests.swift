@testable import FMAController
import Foundation
import Testing

/// FMA's order of choice (§3.8.2) as tables of candidates → decision, without I/O.
@Suite struct LauncherSelectionTests {
    typealias C = LauncherSelection.Candidate
    typealias I = LauncherSelection.Instance

    static func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }

    @Test func aLauncherHoldingTheWantedInstanceWinsOverOneWithRoom() {
        let decision = LauncherSelection.decide(candidates: [
            C(podName: "a", instances: []),
            C(podName: "b", instances: [I(id: "target", port: 8000, lastUsed: Self.at(1))]),
        ], targetID: "target", port: 8000, maxInstances: 4)
        #expect(decision == .hot(podName: "b"))
    }

    @Test func aLauncherWithRoomIsAWarmStartWithoutVictims() {
        let decision = LauncherSelection.decide(candidates: [
            C(podName: "a", instances: [I(id: "x", port: 8001, lastUsed: Self.at(1))]),
        ], targetID: "target", port: 8000, maxInstances: 2)
        #expect(decision == .warm(podName: "a", victims: []))
    }

    @Test func aPortConflictIsReclaimedEvenWithRoom() {
        let decision = LauncherSelection.decide(candidates: [
            C(podName: "a", instances: [I(id: "x", port: 8000, lastUsed: Self.at(1))]),
        ], targetID: "target", port: 8000, maxInstances: 4)
        #expect(decision == .warm(podName: "a", victims: ["x"]))
    }

    @Test func aFullLauncherLosesItsLeastRecentlyUsedSleeper() {
        let decision = LauncherSelection.decide(candidates: [
            C(podName: "a", instances: [I(id: "new", port: 8001, lastUsed: Self.at(5)), I(id: "old", port: 8002, lastUsed: Self.at(2))]),
        ], targetID: "target", port: 8000, maxInstances: 2)
        #expect(decision == .warm(podName: "a", victims: ["old"]))
    }

    @Test func theReclaimPlanWithFewestVictimsThenOldestWins() {
        let decision = LauncherSelection.decide(candidates: [
            C(podName: "a", instances: [I(id: "a1", port: 8001, lastUsed: Self.at(9)), I(id: "a2", port: 8002, lastUsed: Self.at(9)), I(id: "a3", port: 8003, lastUsed: Self.at(9))]),
            C(podName: "b", instances: [I(id: "b1", port: 8001, lastUsed: Self.at(7)), I(id: "b2", port: 8002, lastUsed: Self.at(8))]),
            C(podName: "c", instances: [I(id: "c1", port: 8001, lastUsed: Self.at(3)), I(id: "c2", port: 8002, lastUsed: Self.at(8))]),
        ], targetID: "target", port: 8000, maxInstances: 2)
        #expect(decision == .warm(podName: "c", victims: ["c1"]))
    }

    @Test func aStartingLauncherIsWaitedForRatherThanMakingAnother() {
        #expect(LauncherSelection.decide(candidates: [C(podName: "a", usable: false)], targetID: "t", port: 8000, maxInstances: 1) == .wait)
    }

    @Test func boundGoneOrNoLaunchersMeanACreate() {
        #expect(LauncherSelection.decide(candidates: [], targetID: "t", port: 8000, maxInstances: 1) == .create)
        #expect(LauncherSelection.decide(candidates: [C(podName: "a", bound: true), C(podName: "b", gone: true, usable: false)],
                                         targetID: "t", port: 8000, maxInstances: 1) == .create)
    }

    @Test func anInstanceWithoutAReadablePortIsDeletedFirst() {
        let decision = LauncherSelection.decide(candidates: [
            C(podName: "a", instances: [I(id: "target", port: 8000, lastUsed: Self.at(1)), I(id: "odd", port: nil, lastUsed: Self.at(1))]),
        ], targetID: "target", port: 8000, maxInstances: 4)
        #expect(decision == .deleteUnreadable(podName: "a", instanceID: "odd"))
    }

    @Test func aSleeperElsewhereBeatsRoomSeenFirst() {
        let decision = LauncherSelection.decide(candidates: [
            C(podName: "a"),
            C(podName: "b", usable: false),
            C(podName: "c", instances: [I(id: "target", port: 8000, lastUsed: Self.at(1))]),
        ], targetID: "target", port: 8000, maxInstances: 1)
        #expect(decision == .hot(podName: "c"))
    }
}
