@testable import FMADevCluster
import FMAJSON
import FMAKubeModel
import FMATestSupport
import Foundation
import Testing

@Suite("fma-devcluster restarted with the same --state-dir", .serialized)
struct RestartTests {
    @Test("after kill -9 the restarted cluster serves the same objects at the same address with the same kubeconfig, versions continue, older watches get 410, pods run again and nothing of the killed run is left")
    func killAndRestart() async throws {
        try await withTemporaryDirectory { directory in
            let state = directory + "/state"
            let first = try await RestartableCluster.start(directory: directory, state: state)
            defer { first.process.stop() }
            let cluster = KubectlCluster(directory: directory, kubeconfig: first.kubeconfig)
            _ = try await cluster.kubectl("create", "configmap", "kept", "--from-literal=a=b")
            let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "server"],
                                  "spec": ["containers": [fakeVLLMContainer(probe: false)]]]
            try pod.serializedString().write(toFile: directory + "/pod.json", atomically: true, encoding: .utf8)
            _ = try await cluster.kubectl("apply", "-f", directory + "/pod.json")
            let simulator = state + "/simulator"
            try await waitUntil(timeout: .seconds(60), "the pod's process") { !ContainerProcess.markedProcesses(stateDirectory: simulator).isEmpty }
            let before = Set(ContainerProcess.markedProcesses(stateDirectory: simulator))
            let listed = try JSONValue(parsing: try await cluster.kubectl("get", "--raw", "/api/v1/namespaces/default/configmaps"))
            let listVersion = try #require(listed[path: ["metadata", "resourceVersion"]]?.string.flatMap { Int64($0) })

            first.process.signal(SIGKILL)
            _ = try await first.process.waitForExit(timeout: .seconds(20))
            // The kernel kills the containers' processes with their cluster (a parent-death signal).
            try await waitUntil("the killed cluster's container processes to die with it") {
                ContainerProcess.markedProcesses(stateDirectory: simulator).isEmpty
            }

            let second = try await RestartableCluster.start(directory: directory, state: state)
            defer { second.process.stop() }
            #expect(second.url == first.url, "the same address")
            // The kubeconfig written by the first run still works: same port, CA and token.
            #expect(try await cluster.kubectl("get", "configmap", "kept", "-o", "jsonpath={.data.a}") == "b")
            #expect(try await cluster.kubectl("get", "pod", "server", "-o", "jsonpath={.metadata.name}") == "server")
            let created = try JSONValue(parsing: try await cluster.kubectl("create", "configmap", "after", "-o", "json"))
            let createdVersion = try #require(created[path: ["metadata", "resourceVersion"]]?.string.flatMap { Int64($0) })
            #expect(createdVersion > listVersion, "resource versions continue")
            // A watch from before the restart has nothing to resume from.
            let watch = try await cluster.run("get", "--raw", "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=5&resourceVersion=\(listVersion - 1)")
            #expect(watch.stdout.contains("\"ERROR\"") && watch.stdout.contains("410"), "watch from \(listVersion - 1): \(watch.stdout) \(watch.stderr)")

            // The pod runs again, in a new process; none of the killed run's is left.
            try await waitUntil(timeout: .seconds(60), "the pod's new process") {
                let now = Set(ContainerProcess.markedProcesses(stateDirectory: simulator))
                return !now.isEmpty && now.isDisjoint(with: before)
            }
            let deadline = ContinuousClock.now + .seconds(60)
            var phase = ""
            while phase != "Running" && ContinuousClock.now < deadline {
                phase = try await cluster.kubectl("get", "pod", "server", "-o", "jsonpath={.status.phase}")
            }
            #expect(phase == "Running")
            // Started again after the restart, as after a node reboot: one restart counted.
            #expect(try await cluster.kubectl("get", "pod", "server", "-o", "jsonpath={.status.containerStatuses[0].restartCount}") == "1")

            second.process.signal(SIGTERM)
            let termination = try await second.process.waitForExit(timeout: .seconds(30))
            #expect(termination.exitCode == 0, "after SIGTERM: \(termination); stderr: \(second.process.stderr)")
            #expect(ContainerProcess.markedProcesses(stateDirectory: simulator).isEmpty, "SIGTERM stops every container")
        }
    }

    @Test("the store's log: a restored store has every object and the version it was at; a cut-short last line is skipped; compaction keeps everything")
    func storeLog() async throws {
        try await withTemporaryDirectory { directory in
            let store = try ObjectStore(directory: directory, compactAfterBytes: 4096)
            for index in 0..<40 {
                _ = try store.create(.configMap, namespace: "default", ["metadata": ["name": .string("c\(index)")], "data": ["i": .string(String(index))]])
            }
            _ = try store.delete(.configMap, namespace: "default", name: "c3")
            _ = try store.patch(.configMap, namespace: "default", name: "c4", .merge(["data": ["i": "changed"]]))
            let version = store.resourceVersion
            store.sync()
            #expect(FileManager.default.fileExists(atPath: directory + "/" + StoreLog.snapshotName), "compacted at 4 KiB")

            // A crash in the middle of a line.
            let log = try #require(FileHandle(forWritingAtPath: directory + "/" + StoreLog.logName))
            log.seekToEndOfFile()
            log.write(Data("{\"rv\":999,\"kind\":\"configmaps\",\"type\":\"ADDED\",\"obj".utf8))
            log.closeFile()

            let restored = try ObjectStore(directory: directory, compactAfterBytes: 4096)
            #expect(restored.resourceVersion == version)
            #expect(restored.restoreWarnings.count == 1 && restored.restoreWarnings[0].contains("cut short"))
            let names = Set(try restored.list(.configMap, namespace: "default").items.compactMap { $0[path: ["metadata", "name"]]?.string })
            #expect(names.count == 39 && !names.contains("c3"))
            #expect(try restored.get(.configMap, namespace: "default", name: "c4")[path: ["data", "i"]] == "changed")
            #expect(try restored.list(.namespace, namespace: nil).items.count == 4, "the usual namespaces, once")
            // Watches from before get 410; from now on, versions go on.
            #expect(throws: KubeStatus.self) { _ = try restored.watch(.configMap, namespace: nil, from: String(version - 1)) }
            // From the restored version itself nothing was missed.
            let watch = try restored.watch(.configMap, namespace: nil, from: String(version))
            defer { watch.cancel() }
            let next = try restored.create(.configMap, namespace: "default", ["metadata": ["name": "next"]])
            #expect(next[path: ["metadata", "resourceVersion"]]?.string == String(version + 1))
        }
    }
}

/// One fma-devcluster process with one simulated node, started in `state`.
private struct RestartableCluster {
    let process: ChildProcess
    let url: String
    let kubeconfig: String

    static func start(directory: String, state: String) async throws -> RestartableCluster {
        let ready = directory + "/ready"
        try? FileManager.default.removeItem(atPath: ready)
        let process = try ChildProcess(KubectlCluster.executable, ["serve", "--state-dir", state, "--nodes", "1", "--gpus-per-node", "0",
                                                                    "--ready-file", ready], directory: directory)
        try await waitUntil(timeout: .seconds(60), "fma-devcluster's ready file") {
            FileManager.default.fileExists(atPath: ready) || kill(process.pid, 0) != 0
        }
        guard let lines = try? String(contentsOfFile: ready, encoding: .utf8).split(separator: "\n"), lines.count >= 2 else {
            process.stop()
            throw TestSupportError("fma-devcluster did not start: \(process.stderr)")
        }
        return RestartableCluster(process: process, url: String(lines[0]), kubeconfig: String(lines[1]))
    }
}
