import FMAAPI
import FMAController
import FMAJSON
import FMAKube
import FMAKubeModel
import FMAWire
import FMATestSupport
import Foundation
import Testing

/// The controller against a real fma-devcluster whose nodes run real launchers, fake vLLM
/// instances and requester stubs. Each test asserts what a user sees: Pod labels and
/// annotations, Ready conditions, Events, and the instances as the launcher reports them.
@Suite(.serialized) struct DualPodsEndToEndTests {
    @Test func coldThenHotThenWarmSwitchingBetweenTwoInstancesInOneLauncher() async throws {
        try await ControllerCluster.with(nodes: 1, gpus: 1) { cluster in
            try await cluster.applyLauncherConfig(maxInstances: 2)
            try await cluster.applyISC(name: "isc-a", port: 8005)
            try await cluster.applyISC(name: "isc-b", port: 8006, labels: [:])

            // Cold: no launcher yet; the controller makes one bound to the requester.
            let r1 = try await cluster.createRequester("r1", isc: "isc-a")
            let ready1 = try await cluster.waitReady("r1")
            let launchers = try await cluster.launcherPods()
            try #require(launchers.count == 1)
            let launcherName = launchers[0].metadata.name
            #expect(ready1.metadata.labels[DualPods.Label.dual] == launcherName)
            let instanceA = try #require(ready1.metadata.labels[DualPods.Label.instance])
            #expect(ready1.metadata.annotations[DualPods.Annotation.status] == #"{"Errors":null}"#)
            #expect(ready1.metadata.annotations[DualPods.Annotation.actuationPath] == "cold")
            #expect(ready1.metadata.annotations[DualPods.Annotation.accelerators]?.hasPrefix("GPU-") == true)
            #expect(ready1.metadata.finalizers.contains(DualPods.Finalizer.requester))
            let bound = try #require(try await cluster.pod(launcherName))
            #expect(bound.isReady, "the requester turned Ready before its new launcher Pod")
            #expect(bound.metadata.annotations[DualPods.Annotation.requester] == "\(r1.metadata.uid) r1")
            #expect(bound.metadata.annotations[DualPods.Annotation.instanceID] == instanceA)
            #expect(bound.metadata.labels[DualPods.Label.sleeping] == "false")
            #expect(bound.metadata.labels["llm-d.ai/inference-serving"] == "true")
            #expect(bound.metadata.finalizers.contains(DualPods.Finalizer.provider))
            try await cluster.waitForInstances(bound, "instance A awake") { $0[instanceA]?.sleepState != .sleeping && $0[instanceA]?.status == .running }
            #expect(try await cluster.events(about: "r1").contains { $0.reason == DualPods.Reason.served })
            // The launcher's own probe told the controller the server answers (a READY event):
            // the controller polled no server itself.
            try await cluster.waitForInstances(bound, "instance A ready") { $0[instanceA]?.ready == true }
            #expect(!cluster.metricsText().contains("purpose=\"query_sleeping\""), "the controller polled /is_sleeping")

            // Requester deleted: routing metadata off, instance asleep, launcher unbound.
            try await cluster.client.delete(Pod.self, name: "r1", namespace: cluster.namespace)
            try await cluster.waitGone("r1")
            let unbound = try #require(try await cluster.waitForPod(launcherName, "unbound") {
                $0?.metadata.annotations[DualPods.Annotation.requester] == nil && $0?.metadata.labels[DualPods.Label.sleeping] == "true"
            })
            #expect(unbound.metadata.labels["llm-d.ai/inference-serving"] == nil)
            #expect(unbound.metadata.labels[DualPods.Label.dual] == nil)
            #expect(!unbound.metadata.finalizers.contains(DualPods.Finalizer.provider))
            try await cluster.waitForInstances(unbound, "instance A asleep") { $0[instanceA]?.sleepState == .sleeping }

            // Hot: the same config on the same GPU wakes the sleeper.
            try await cluster.createRequester("r2", isc: "isc-a")
            let ready2 = try await cluster.waitReady("r2")
            #expect(ready2.metadata.annotations[DualPods.Annotation.actuationPath] == "hot")
            #expect(ready2.metadata.labels[DualPods.Label.instance] == instanceA)
            #expect(ready2.metadata.labels[DualPods.Label.dual] == launcherName)
            // fmactl shows the pair as a user reads it.
            let listed = try await runCommand(binDirectory + "/fmactl", ["dual", "list", "-o", "json"], directory: cluster.directory,
                                              environment: ["KUBECONFIG": cluster.kubeconfigPath])
            #expect(listed.termination.exitCode == 0, "\(listed.stderr)")
            let pairs = try #require(try JSONValue(parsing: listed.stdout)["pairs"]?.array)
            let pair = try #require(pairs.first { $0["requester"]?.string == "r2" })
            #expect(pair["launcher"]?.string == launcherName)
            #expect(pair["path"]?.string == "hot")
            #expect(pair["state"]?.string == "ready")
            let text = try await runCommand(binDirectory + "/fmactl", ["dual", "list"], directory: cluster.directory,
                                            environment: ["KUBECONFIG": cluster.kubeconfigPath])
            #expect(text.stdout.contains("REQUESTER") && text.stdout.contains("r2") && text.stdout.contains("hot"))
            try await cluster.client.delete(Pod.self, name: "r2", namespace: cluster.namespace)
            try await cluster.waitGone("r2")

            // Warm: another config, a new instance in the same launcher beside the sleeper.
            try await cluster.createRequester("r3", isc: "isc-b")
            let ready3 = try await cluster.waitReady("r3")
            #expect(ready3.metadata.annotations[DualPods.Annotation.actuationPath] == "warm")
            #expect(ready3.metadata.labels[DualPods.Label.dual] == launcherName)
            let instanceB = try #require(ready3.metadata.labels[DualPods.Label.instance])
            #expect(instanceB != instanceA)
            try await cluster.waitForInstances(unbound, "both instances, A asleep") { $0.count == 2 && $0[instanceA]?.sleepState == .sleeping }
            try await cluster.client.delete(Pod.self, name: "r3", namespace: cluster.namespace)
            try await cluster.waitGone("r3")

            // Back to A: hot again; B now sleeps.
            try await cluster.createRequester("r4", isc: "isc-a")
            let ready4 = try await cluster.waitReady("r4")
            #expect(ready4.metadata.annotations[DualPods.Annotation.actuationPath] == "hot")
            try await cluster.waitForInstances(unbound, "B asleep, A awake") {
                $0[instanceB]?.sleepState == .sleeping && $0[instanceA]?.sleepState != .sleeping
            }
            #expect(try await cluster.launcherPods().count == 1)

            // The instance crashes: the requester is deleted (its set would make a new one).
            var pid: Int32 = 0
            try await cluster.waitForInstances(unbound, "A's pid") { instances in
                guard let p = instances[instanceA]?.pid, p > 0 else { return false }
                return true
            }
            let list = try await cluster.launcher(unbound).list()
            pid = list.instances.first { $0.id == instanceA }?.pid ?? 0
            try #require(pid > 0)
            kill(pid, SIGKILL)
            try await cluster.waitGone("r4")
            #expect(try await cluster.events(about: "r4").contains { $0.reason == DualPods.Reason.providerGone })
        }
    }

    @Test func whatAUserMustFixIsInTheRequesterStatus() async throws {
        try await ControllerCluster.with(nodes: 1, gpus: 1) { cluster in
            // No such ISC.
            try await cluster.createRequester("lost", isc: "nope", rpc: false)
            let lost = try await cluster.waitForPod("lost", "a status error") {
                $0?.metadata.annotations[DualPods.Annotation.status]?.contains("failed to get InferenceServerConfig \\\"nope\\\"") == true
            }
            #expect(lost?.isReady == false)
            // An ISC whose LauncherConfig is missing; then the LauncherConfig appears and the
            // requester is served without any other event (FMA would wait).
            try await cluster.applyISC(name: "isc-a", port: 8005)
            try await cluster.client.delete(Pod.self, name: "lost", namespace: cluster.namespace)
            try await cluster.waitGone("lost")
            try await cluster.createRequester("waits", isc: "isc-a", rpc: false)
            try await cluster.waitForPod("waits", "a missing LauncherConfig") {
                $0?.metadata.annotations[DualPods.Annotation.status]?.contains("failed to get LauncherConfig \\\"lc\\\"") == true
            }
            try await cluster.applyLauncherConfig()
            let served = try await cluster.waitReady("waits")
            #expect(served.metadata.annotations[DualPods.Annotation.status] == #"{"Errors":null}"#)
        }
    }
}
