import FMAController
import FMAKube
import FMAKubeModel
import FMATestSupport
import Foundation
import ServiceLifecycle
import Testing

/// Restart safety and leader election: a standby replica takes over within the lease duration,
/// rebuilds what it needs from Pod metadata and the launchers, and the next request for the
/// sleeping instance is still a hot start.
@Suite(.serialized) struct LeaderHandoverTests {
    @Test func aStandbyTakesOverAndTheSleeperStaysHot() async throws {
        try await ControllerCluster.with(nodes: 1, gpus: 1, startController: false) { cluster in
            try await cluster.applyLauncherConfig()
            try await cluster.applyISC(name: "isc-a", port: 8005)
            func election(_ identity: String) -> LeaderElector.Options {
                var options = LeaderElector.Options(leaseName: "fma-test-leader", namespace: cluster.namespace, identity: identity)
                options.leaseDuration = .seconds(2)
                options.renewDeadline = .seconds(1)
                options.retryPeriod = .milliseconds(200)
                return options
            }
            let standby = cluster.makeController(leaderElection: election("b"))
            let first = cluster.makeController(leaderElection: election("a"))
            let a = ServiceGroup(configuration: .init(services: [.init(service: ControllerService(first))], logger: testLogger("a")))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await a.run() }
                try await cluster.createRequester("r1", isc: "isc-a")
                let ready = try await cluster.waitReady("r1")
                #expect(ready.metadata.annotations[DualPods.Annotation.actuationPath] == "cold")
                let lease = try await cluster.client.get(Lease.self, name: "fma-test-leader", namespace: cluster.namespace)
                #expect(lease.spec.holderIdentity == "a")
                try await withRunningServices([ControllerService(standby)]) { _ in
                    // The leader stops without releasing the lease; the standby waits it out.
                    await a.triggerGracefulShutdown()
                    try await cluster.client.delete(Pod.self, name: "r1", namespace: cluster.namespace)
                    try await cluster.waitGone("r1")
                    let taken = try await cluster.client.get(Lease.self, name: "fma-test-leader", namespace: cluster.namespace)
                    #expect(taken.spec.holderIdentity == "b")
                    #expect((taken.spec.leaseTransitions ?? 0) >= 1)
                    try await cluster.createRequester("r2", isc: "isc-a")
                    let hot = try await cluster.waitReady("r2")
                    #expect(hot.metadata.annotations[DualPods.Annotation.actuationPath] == "hot")
                    #expect(try await cluster.launcherPods().count == 1)
                }
            }
        }
    }
}
