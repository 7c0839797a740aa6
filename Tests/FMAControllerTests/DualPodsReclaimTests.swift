import FMAAPI
import FMAController
import FMAKube
import FMAKubeModel
import FMAWire
import FMATestSupport
import Foundation
import Testing

/// Making room in a launcher, configs that change, launchers that go, nodes that close.
@Suite(.serialized) struct DualPodsReclaimTests {
    @Test func aFullLauncherLosesItsSleeperAndAPortConflictIsReclaimed() async throws {
        try await ControllerCluster.with(nodes: 1, gpus: 1) { cluster in
            try await cluster.applyLauncherConfig(maxInstances: 1)
            try await cluster.applyISC(name: "isc-a", port: 8005)
            try await cluster.applyISC(name: "isc-b", port: 8006, labels: [:])
            try await cluster.applyISC(name: "isc-c", port: 8006, options: "--model fake/other", labels: [:])

            try await cluster.createRequester("r1", isc: "isc-a")
            let instanceA = try #require(try await cluster.waitReady("r1").metadata.labels[DualPods.Label.instance])
            try await cluster.client.delete(Pod.self, name: "r1", namespace: cluster.namespace)
            try await cluster.waitGone("r1")
            let launcher = try await cluster.onlyLauncher()

            // maxInstances 1: the sleeper A makes room for B.
            try await cluster.createRequester("r2", isc: "isc-b")
            let ready2 = try await cluster.waitReady("r2")
            #expect(ready2.metadata.annotations[DualPods.Annotation.actuationPath] == "warm")
            let instanceB = try #require(ready2.metadata.labels[DualPods.Label.instance])
            try await cluster.waitForInstances(launcher, "only B") { $0.keys.sorted() == [instanceB] }
            #expect(instanceA != instanceB)
            try await cluster.client.delete(Pod.self, name: "r2", namespace: cluster.namespace)
            try await cluster.waitGone("r2")

            // isc-c wants B's port: B goes even though it is the only one.
            try await cluster.modify(LauncherConfig.self, "lc") { $0.spec.maxInstances = 3 }
            try await cluster.createRequester("r3", isc: "isc-c")
            let ready3 = try await cluster.waitReady("r3")
            let instanceC = try #require(ready3.metadata.labels[DualPods.Label.instance])
            #expect(ready3.metadata.labels[DualPods.Label.dual] == launcher.metadata.name)
            try await cluster.waitForInstances(launcher, "only C") { $0.keys.sorted() == [instanceC] }
        }
    }

    @Test func aRestartedControllerReclaimsByUseAndReportsNoActuationItDidNotMake() async throws {
        try await ControllerCluster.with(nodes: 1, gpus: 1, startController: false) { cluster in
            try await cluster.applyLauncherConfig(maxInstances: 2)
            try await cluster.applyISC(name: "isc-a", port: 8005)
            try await cluster.applyISC(name: "isc-b", port: 8006, labels: [:])
            try await cluster.applyISC(name: "isc-c", port: 8007, labels: [:])
            let (instanceA, instanceB) = try await withRunningServices([ControllerService(cluster.makeController())]) { _ in
                // A sleeps, then B; then A serves again (created first, used last).
                try await cluster.createRequester("r1", isc: "isc-a")
                let a = try #require(try await cluster.waitReady("r1").metadata.labels[DualPods.Label.instance])
                try await cluster.client.delete(Pod.self, name: "r1", namespace: cluster.namespace)
                try await cluster.waitGone("r1")
                try await cluster.createRequester("r2", isc: "isc-b")
                let b = try #require(try await cluster.waitReady("r2").metadata.labels[DualPods.Label.instance])
                try await cluster.client.delete(Pod.self, name: "r2", namespace: cluster.namespace)
                try await cluster.waitGone("r2")
                try await cluster.createRequester("r3", isc: "isc-a")
                let r3 = try await cluster.waitReady("r3")
                #expect(r3.metadata.annotations[DualPods.Annotation.actuationPath] == "hot")
                #expect(r3.metadata.labels[DualPods.Label.instance] == a)
                return (a, b)
            }
            let launcher = try await cluster.onlyLauncher()
            let actuationsBefore = try await cluster.events(about: "r3").filter { $0.reason == DualPods.Reason.served }.count
            #expect(actuationsBefore == 1)

            let second = cluster.makeController()
            try await withRunningServices([ControllerService(second)]) { _ in
                // r3 was served before this controller started: no actuation of its own.
                try await cluster.waitIdle(second)
                try await cluster.client.delete(Pod.self, name: "r3", namespace: cluster.namespace)
                try await cluster.waitGone("r3")
                try await cluster.waitForInstances(launcher, "A asleep again") { $0[instanceA]?.sleepState == .sleeping }
                #expect(try await cluster.events(about: "r3").filter { $0.reason == DualPods.Reason.served }.count == 1,
                        "a restarted controller reported an actuation it did not make")

                // Full (2 of 2): the least recently used sleeper goes, B, though A is older,
                // and though this controller never saw B used: the launcher says when.
                try await cluster.createRequester("r4", isc: "isc-c")
                let r4 = try await cluster.waitReady("r4")
                let instanceC = try #require(r4.metadata.labels[DualPods.Label.instance])
                try await cluster.waitForInstances(launcher, "B reclaimed, A kept") { Set($0.keys) == [instanceA, instanceC] }
                #expect(instanceB != instanceA)
            }
        }
    }

    @Test func configChangesLaunchersGoingAndClosedNodes() async throws {
        try await ControllerCluster.with(nodes: 1, gpus: 1) { cluster in
            try await cluster.applyLauncherConfig(maxInstances: 2)
            try await cluster.applyISC(name: "isc-a", port: 8005)

            // A sleeping instance whose ISC changes is deleted.
            try await cluster.createRequester("r1", isc: "isc-a")
            let instanceA = try #require(try await cluster.waitReady("r1").metadata.labels[DualPods.Label.instance])
            try await cluster.client.delete(Pod.self, name: "r1", namespace: cluster.namespace)
            try await cluster.waitGone("r1")
            let launcher = try await cluster.onlyLauncher()
            try await cluster.waitForInstances(launcher, "A asleep") { $0[instanceA]?.sleepState == .sleeping }
            try await cluster.modify(InferenceServerConfig.self, "isc-a") { $0.spec.modelServerConfig.options = "--model fake/v2" }
            try await cluster.waitForInstances(launcher, "A deleted as obsolete") { $0[instanceA] == nil }

            // Deleting the bound launcher deletes its requester.
            try await cluster.createRequester("r2", isc: "isc-a")
            let ready2 = try await cluster.waitReady("r2")
            #expect(ready2.metadata.labels[DualPods.Label.instance] != instanceA)
            try await cluster.client.delete(Pod.self, name: launcher.metadata.name, namespace: cluster.namespace)
            try await cluster.waitGone("r2")
            try await cluster.waitGone(launcher.metadata.name)

            // A requester that cannot be served yet on a node that is then cordoned is deleted.
            try await cluster.applyISC(name: "isc-x", port: 8007, launcherConfig: "missing")
            try await cluster.createRequester("r3", isc: "isc-x")
            try await cluster.waitForPod("r3", "a missing LauncherConfig") {
                $0?.metadata.annotations[DualPods.Annotation.status]?.contains("failed to get LauncherConfig \\\"missing\\\"") == true
            }
            try await cluster.modify(Node.self, "node-1") { $0.json[path: ["spec", "unschedulable"]] = true }
            try await cluster.waitGone("r3")
            #expect(try await cluster.events(about: "r3").contains { $0.reason == DualPods.Reason.nodeUnschedulable })
            try await cluster.modify(Node.self, "node-1") { $0.json[path: ["spec", "unschedulable"]] = nil }

            // A requester without GPUs is told so.
            try await cluster.createRequester("r4", isc: "isc-a", gpus: 0)
            try await cluster.waitForPod("r4", "no GPUs") {
                $0?.metadata.annotations[DualPods.Annotation.status]?.contains("the assigned set of GPUs is empty") == true
            }
        }
    }
}
