@testable import FMADevCluster
import FMAAPI
import FMAJSON
import FMARPC
import FMAWire
import FMAKubeModel
import FMATestSupport
import Foundation
import Testing

@Suite("Simulator: kubelet")
struct SimulatorKubeletTests {
    @Test("a fake vLLM pod really runs: env, GPUs, its own loopback address, Ready by probe, SIGTERM on delete")
    func fakeVLLMRuns() async throws {
        try await withSimulator(nodes: 2, gpusPerNode: 4) { store, simulator in
            var pod = podJSON("vllm", containers: [fakeVLLMContainer(gpus: 2)])
            pod[path: ["spec", "terminationGracePeriodSeconds"]] = 30
            _ = try store.create(.pod, namespace: "default", pod)
            let ready = try await waitForPod(store, "vllm", "Ready") { $0.isReady }
            let node = try #require(ready.spec.nodeName)
            let podIP = try #require(ready.status.podIP)
            let nodeAddress = try #require(simulator.nodes.first { $0.name == node }?.address)
            #expect(ready.status.phase == "Running")
            #expect(ready.status.hostIP == nodeAddress)
            #expect(podIP.hasPrefix(String(nodeAddress.dropLast())) && podIP != nodeAddress)
            #expect(ready.status.condition("PodScheduled")?.isTrue == true)
            #expect(ready.status.containerStatuses.first?.ready == true)

            let report = try #require(httpGet(host: podIP, port: 8000, path: "/fma/process"))
            #expect(report.status == 200)
            let process = try JSONValue(parsing: report.body)
            let env = try #require(process["env"]?.object)
            #expect(env["NODE_NAME"]?.string == node)
            #expect(env["POD_NAME"]?.string == "vllm")
            #expect(env["NAMESPACE"]?.string == "default")
            #expect(env["POD_UID"]?.string == ready.metadata.uid)
            #expect(env["POD_IP"]?.string == podIP)
            #expect(env["MY_POD"]?.string == "vllm")
            #expect(env["GREETING"]?.string == "hello from \(node)")
            #expect(env["NVIDIA_VISIBLE_DEVICES"]?.string == MockGPUs.uuids(node: node, count: 2).joined(separator: ","))
            #expect(process["argv"]?.array?.contains(.string(podIP)) == true)
            // Nothing else answers on that port of 127.0.0.1 or the node's address.
            #expect(httpGet(host: nodeAddress, port: 8000, path: "/health") == nil)
            let pid = try #require(process["pid"]?.int.map { Int32($0) })
            #expect(process["pgid"]?.int == Int64(pid))
            #expect(processExists(pid))
            let log = simulator.logPath(namespace: "default", pod: "vllm", container: "server")
            #expect(FileManager.default.fileExists(atPath: log))

            let started = ContinuousClock.now
            _ = try store.delete(.pod, namespace: "default", name: "vllm")
            try await waitUntil("the pod object to go") { store.pod("vllm") == nil }
            // Well within the 30 s grace period: the process stopped on SIGTERM.
            #expect(ContinuousClock.now - started < .seconds(20))
            #expect(!processExists(pid))
            #expect(!store.events(about: "vllm", reason: "Killing").isEmpty)
        }
    }

    @Test("a container that names GPUs in its NVIDIA_VISIBLE_DEVICES gets those when free; the device plugin's allocation is what it sees")
    func namedGPUsArePreferred() async throws {
        try await withSimulator(nodes: 1, gpusPerNode: 4) { store, simulator in
            let node = try #require(simulator.nodes.first)
            var container = fakeVLLMContainer(gpus: 1).object!
            var env = container["env"]?.array ?? []
            env.append(["name": "NVIDIA_VISIBLE_DEVICES", "value": .string(node.gpuUUIDs[2])])
            container["env"] = .array(env)
            _ = try store.create(.pod, namespace: "default", podJSON("pinned", containers: [.object(container)]))
            let ready = try await waitForPod(store, "pinned", "Ready") { $0.isReady }
            let ip = try #require(ready.status.podIP)
            let report = try #require(httpGet(host: ip, port: 8000, path: "/fma/process"))
            #expect(try JSONValue(parsing: report.body)[path: ["env", "NVIDIA_VISIBLE_DEVICES"]]?.string == node.gpuUUIDs[2])

            // GPU 2 is taken: the next pod naming it gets the lowest free one instead.
            var second = container
            second["env"] = .array(env.dropLast() + [["name": "NVIDIA_VISIBLE_DEVICES", "value": "2"]])
            _ = try store.create(.pod, namespace: "default", podJSON("second", containers: [.object(second)]))
            let secondReady = try await waitForPod(store, "second", "Ready") { $0.isReady }
            let secondIP = try #require(secondReady.status.podIP)
            let secondReport = try #require(httpGet(host: secondIP, port: 8000, path: "/fma/process"))
            #expect(try JSONValue(parsing: secondReport.body)[path: ["env", "NVIDIA_VISIBLE_DEVICES"]]?.string == node.gpuUUIDs[0])
        }
    }

    @Test("probe timeouts and grace periods up to Int64.max neither crash the kubelet nor stop deletion")
    func hugeDurations() async throws {
        try await withSimulator { store, _ in
            var container = try #require(fakeVLLMContainer().object)
            container["readinessProbe"] = [
                "httpGet": ["path": "/health", "port": "http"],
                "periodSeconds": 1, "timeoutSeconds": .int(Int64.max), "failureThreshold": 1,
            ]
            var pod = podJSON("patient", containers: [.object(container)])
            pod[path: ["spec", "terminationGracePeriodSeconds"]] = .int(Int64.max)
            _ = try store.create(.pod, namespace: "default", pod)
            try await waitForPod(store, "patient", "Ready") { $0.isReady }
            _ = try store.delete(.pod, namespace: "default", name: "patient", options: DeleteOptions(gracePeriodSeconds: Int64.max))
            try await waitUntil("the pod object to go") { store.pod("patient") == nil }
        }
        #expect(KubeletWorker.seconds(Int64.max) == .seconds(Int64(Int32.max)))
        #expect(KubeletWorker.seconds(-5) == .zero)
    }

    @Test("a restarted cluster stops the processes an earlier run of the same state directory left, and no others")
    func leftoversOfAnEarlierRun() async throws {
        try await withTemporaryDirectory { directory in
            let state = directory + "/state"
            let leftover = try ChildProcess("/bin/sleep", ["60"], directory: directory, environment: [ContainerProcess.clusterVariable: state])
            let other = try ChildProcess("/bin/sleep", ["60"], directory: directory, environment: [ContainerProcess.clusterVariable: state + "-other"])
            defer { leftover.stop(); other.stop() }
            #expect(ContainerProcess.killLeftovers(stateDirectory: state) == 1)
            let termination = try await leftover.waitForExit()
            #expect(termination.signal == SIGKILL)
            #expect(processExists(other.pid))
            #expect(ContainerProcess.killLeftovers(stateDirectory: state) == 0)
        }
    }

    @Test("a tcpSocket readiness probe passes once the port accepts connections, and not on a port nothing listens on")
    func tcpSocketProbes() async throws {
        try await withSimulator(nodes: 1, gpusPerNode: 0) { store, _ in
            for (name, port) in [("open", JSONValue.string("http")), ("closed", JSONValue.int(1))] {
                var container = fakeVLLMContainer(probe: false).object ?? [:]
                container["readinessProbe"] = ["tcpSocket": ["port": port], "periodSeconds": 1]
                _ = try store.create(.pod, namespace: "default", podJSON(name, containers: [.object(container)]))
            }
            _ = try await waitForPod(store, "open", "Ready by its tcpSocket probe") { $0.isReady }
            let closed = try #require(store.pod("closed"))
            #expect(closed.status.containerStatuses.first?.started == true && !closed.isReady)
        }
    }

    @Test("what the kubelet writes is all Kubernetes fields: pods simulated, run, failed and waiting, nodes, leases")
    func onlyKubernetesFields() async throws {
        try await withSimulator(nodes: 1, gpusPerNode: 1) { store, _ in
            var probed = simulatedContainer("probed").object ?? [:]
            probed["readinessProbe"] = ["exec": ["command": ["true"]]]
            _ = try store.create(.pod, namespace: "default", podJSON("simulated", containers: [.object(probed)]))
            _ = try store.create(.pod, namespace: "default", podJSON("vllm", containers: [fakeVLLMContainer(gpus: 0)]))
            _ = try store.create(.pod, namespace: "default", podJSON("greedy", containers: [simulatedContainer(gpus: 9)]))
            _ = try await waitForPod(store, "simulated", "Ready") { $0.isReady }
            _ = try await waitForPod(store, "vllm", "Ready") { $0.isReady }
            for kind in [ResourceKind.pod, .node, .lease] {
                for object in try store.list(kind, namespace: nil).items {
                    let fields = try #require(KubeFields.of(kind))
                    #expect(fields.unknown(in: .object(object)).isEmpty, "\(kind.kind) \(object[path: ["metadata", "name"]]?.string ?? ""): \(fields.unknown(in: .object(object)))")
                }
            }
        }
    }

    @Test("nodes report every status.nodeInfo field a kubelet reports")
    func nodeInfo() async throws {
        try await withSimulator(nodes: 2, gpusPerNode: 0) { store, _ in
            let infos = try store.list(.node, namespace: nil).items.compactMap { $0[path: ["status", "nodeInfo"]]?.object }
            #expect(infos.count == 2)
            for info in infos {
                for field in ["bootID", "kernelVersion", "kubeProxyVersion", "machineID", "osImage", "systemUUID", "architecture",
                              "operatingSystem", "containerRuntimeVersion", "kubeletVersion"] {
                    let value = info[field]?.string ?? ""
                    #expect(!value.isEmpty, "nodeInfo.\(field)")
                }
                #expect(info["machineID"]?.string?.count == 32)
                #expect(info["systemUUID"]?.string.flatMap(UUID.init(uuidString:)) != nil)
            }
            #expect(infos[0]["machineID"] != infos[1]["machineID"] && infos[0]["bootID"] == infos[1]["bootID"])
        }
    }

    @Test("each node has its Lease in kube-node-lease, held by the node, renewed, and gone with the node")
    func nodeLeases() async throws {
        try await withSimulator(nodes: 2, gpusPerNode: 0) { store, _ in
            func lease(_ node: String) -> Lease? {
                (try? store.get(.lease, namespace: "kube-node-lease", name: node)).map(Lease.init(json:))
            }
            try await waitUntil("both node leases") { lease("node-1") != nil && lease("node-2") != nil }
            let first = try #require(lease("node-1"))
            let node = try store.get(.node, namespace: "", name: "node-1")
            #expect(first.spec.holderIdentity == "node-1" && first.spec.leaseDurationSeconds == 40)
            #expect(first.metadata.ownerReferences.first?.uid == node[path: ["metadata", "uid"]]?.string)
            let renewedAt = try #require(first.spec.renewTime.flatMap(KubeMicroTime.date))

            let leases = NodeLeases(store: store, nodeNames: ["node-1", "node-2"], logger: testLogger("fma.devcluster.leases"))
            try await waitUntil("a later renewal") {
                leases.renewAll()
                return (lease("node-1")?.spec.renewTime.flatMap(KubeMicroTime.date) ?? .distantPast) > renewedAt
            }
            _ = try store.delete(.node, namespace: "", name: "node-2")
            try await waitUntil("node-2's lease to go with it") { lease("node-2") == nil }
            leases.renewAll()
            #expect(lease("node-2") == nil)
        }
    }

    @Test("env from secretKeyRef and configMapKeyRef; a missing key is CreateContainerConfigError until it exists")
    func envFromSecretsAndConfigMaps() async throws {
        try await withSimulator(nodes: 1, gpusPerNode: 0) { store, _ in
            _ = try store.create(.secret, namespace: "default", ["metadata": ["name": "creds"], "stringData": ["token": "t-1"]])
            _ = try store.create(.configMap, namespace: "default", ["metadata": ["name": "opts"], "data": ["mode": "fast"]])
            func reference(_ kind: String, _ name: String, _ key: String, optional: Bool = false) -> JSONValue {
                var reference: JSONObject = ["name": .string(name), "key": .string(key)]
                if optional { reference["optional"] = true }
                return .object([kind: .object(reference)])
            }
            var server = try #require(fakeVLLMContainer(probe: false).object)
            server["env"] = [
                ["name": "TOKEN", "valueFrom": reference("secretKeyRef", "creds", "token")],
                ["name": "MODE", "valueFrom": reference("configMapKeyRef", "opts", "mode")],
                ["name": "ABSENT", "valueFrom": reference("secretKeyRef", "nothing", "x", optional: true)],
            ]
            _ = try store.create(.pod, namespace: "default", podJSON("reader", containers: [.object(server)]))
            let running = try await waitForPod(store, "reader", "Ready") { $0.isReady }
            let podIP = try #require(running.status.podIP)
            var report: (status: Int, body: String)?
            try await waitUntil("the fake vLLM to answer") {
                report = httpGet(host: podIP, port: 8000, path: "/fma/process")
                return report?.status == 200
            }
            let env = try #require(try JSONValue(parsing: report?.body ?? "")["env"]?.object)
            #expect(env["TOKEN"]?.string == "t-1")
            #expect(env["MODE"]?.string == "fast")
            #expect(env["ABSENT"] == nil)

            let waiting: JSONValue = ["name": "main", "image": "registry.example/app:1",
                                      "env": [["name": "LATE", "valueFrom": reference("secretKeyRef", "late", "key")]]]
            _ = try store.create(.pod, namespace: "default", podJSON("blocked", containers: [waiting]))
            let blocked = try await waitForPod(store, "blocked", "CreateContainerConfigError") {
                $0.status.containerStatuses.first?.json[path: ["state", "waiting", "reason"]]?.string == "CreateContainerConfigError"
            }
            #expect(blocked.status.phase == "Pending")
            #expect(blocked.status.containerStatuses.first?.json[path: ["state", "waiting", "message"]]?.string == "secret \"late\" not found")
            _ = try store.create(.secret, namespace: "default", ["metadata": ["name": "late"], "stringData": ["other": "v"]])
            try await waitForPod(store, "blocked", "the missing key named") {
                $0.status.containerStatuses.first?.json[path: ["state", "waiting", "message"]]?.string == "couldn't find key key in Secret default/late"
            }
            _ = try store.patch(.secret, namespace: "default", name: "late", .merge(["stringData": ["key": "v"]]))
            try await waitForPod(store, "blocked", "Running once the key exists") { $0.status.phase == "Running" }
            #expect(store.events(about: "blocked", reason: "Failed").count == 2)
        }
    }

    @Test("secret and configMap volumes are files in the pod's directory; paths under a mountPath in env and args point there; a missing Secret waits; the files go with the pod")
    func secretAndConfigMapVolumes() async throws {
        try await withSimulator(nodes: 1, gpusPerNode: 0) { store, _ in
            _ = try store.create(.secret, namespace: "default", ["metadata": ["name": "rpc"], "stringData": ["token": "t-42", "other": "o"]])
            _ = try store.create(.configMap, namespace: "default", ["metadata": ["name": "cfg"], "data": ["mode": "fast", "unused": "u"]])
            var server = try #require(fakeVLLMContainer(probe: false).object)
            server["env"] = [
                ["name": "TOKEN_FILE", "value": "/var/run/secrets/fma/token"],
                ["name": "OPTIONS", "value": "--token-file=/var/run/secrets/fma/token"],
                ["name": "MODE_FILE", "value": "/etc/fma/mode.txt"],
                ["name": "ELSEWHERE", "value": "/var/run/secrets/fmax/token"],
            ]
            server["volumeMounts"] = [
                ["name": "token", "mountPath": "/var/run/secrets/fma", "readOnly": true],
                ["name": "config", "mountPath": "/etc/fma/mode.txt", "subPath": "mode.txt"],
            ]
            let volumes: JSONValue = [
                ["name": "token", "secret": ["secretName": "rpc"]],
                ["name": "config", "configMap": ["name": "cfg", "items": [["key": "mode", "path": "mode.txt"]]]],
            ]
            _ = try store.create(.pod, namespace: "default", podJSON("mounted", containers: [.object(server)], spec: ["volumes": volumes]))
            let pod = try await waitForPod(store, "mounted", "Running") { $0.status.phase == "Running" && $0.status.podIP != nil }
            var report: (status: Int, body: String)?
            try await waitUntil("the fake vLLM to answer") {
                report = httpGet(host: pod.status.podIP!, port: 8000, path: "/fma/process")
                return report?.status == 200
            }
            let env = try #require(try JSONValue(parsing: report?.body ?? "")["env"]?.object)
            let tokenFile = try #require(env["TOKEN_FILE"]?.string)
            #expect(tokenFile.hasSuffix("/pods/default/mounted/volumes/token/token"))
            #expect(try String(contentsOfFile: tokenFile, encoding: .utf8) == "t-42")
            #expect(env["OPTIONS"]?.string == "--token-file=" + tokenFile)
            let modeFile = try #require(env["MODE_FILE"]?.string)
            #expect(try String(contentsOfFile: modeFile, encoding: .utf8) == "fast")
            #expect(!FileManager.default.fileExists(atPath: (modeFile as NSString).deletingLastPathComponent + "/unused"), "only the items listed")
            #expect(env["ELSEWHERE"]?.string == "/var/run/secrets/fmax/token", "a sibling of the mountPath is not under it")

            var waiting = try #require(simulatedContainer().object)
            waiting["volumeMounts"] = [["name": "late", "mountPath": "/late"]]
            _ = try store.create(.pod, namespace: "default", podJSON("blocked", containers: [.object(waiting)],
                                                                       spec: ["volumes": [["name": "late", "secret": ["secretName": "late"]]]]))
            try await waitForPod(store, "blocked", "CreateContainerConfigError") {
                $0.status.containerStatuses.first?.json[path: ["state", "waiting", "message"]]?.string == "secret \"late\" not found"
            }
            _ = try store.create(.secret, namespace: "default", ["metadata": ["name": "late"], "stringData": ["k": "v"]])
            try await waitForPod(store, "blocked", "Running once the Secret exists") { $0.status.phase == "Running" }

            _ = try store.delete(.pod, namespace: "default", name: "mounted", options: DeleteOptions(gracePeriodSeconds: 0))
            try await waitUntil("the volume files to go with the pod") { !FileManager.default.fileExists(atPath: tokenFile) }
        }
    }

    @Test("two pods on one node both listen on the same port, each on its own address")
    func samePortTwice() async throws {
        try await withSimulator(nodes: 1) { store, _ in
            _ = try store.create(.pod, namespace: "default", podJSON("a", containers: [fakeVLLMContainer()]))
            _ = try store.create(.pod, namespace: "default", podJSON("b", containers: [fakeVLLMContainer()]))
            let a = try await waitForPod(store, "a", "Ready") { $0.isReady }
            let b = try await waitForPod(store, "b", "Ready") { $0.isReady }
            let ipA = try #require(a.status.podIP), ipB = try #require(b.status.podIP)
            #expect(ipA != ipB)
            #expect(httpGet(host: ipA, port: 8000, path: "/health")?.status == 200)
            #expect(httpGet(host: ipB, port: 8000, path: "/health")?.status == 200)
        }
    }

    @Test("a process that ignores SIGTERM is killed after the grace period")
    func sigkillAfterGrace() async throws {
        try await withSimulator { store, _ in
            var pod = podJSON("stubborn", containers: [fakeVLLMContainer(extraArguments: ["--ignore-sigterm"])])
            pod[path: ["spec", "terminationGracePeriodSeconds"]] = 1
            _ = try store.create(.pod, namespace: "default", pod)
            let ready = try await waitForPod(store, "stubborn", "Ready") { $0.isReady }
            let report = try #require(httpGet(host: ready.status.podIP!, port: 8000, path: "/fma/process"))
            let pid = try #require(try JSONValue(parsing: report.body)["pid"]?.int.map { Int32($0) })
            _ = try store.delete(.pod, namespace: "default", name: "stubborn")
            try await waitUntil("the pod object to go") { store.pod("stubborn") == nil }
            #expect(!processExists(pid))
        }
    }

    @Test("container exits show in the status; Never ends Failed, Always restarts with backoff")
    func exits() async throws {
        try await withSimulator { store, simulator in
            var never = podJSON("once", containers: [fakeVLLMContainer(port: 8001, extraArguments: ["--exit-after", "0.2", "--exit-code", "7"], probe: false)])
            never[path: ["spec", "restartPolicy"]] = "Never"
            _ = try store.create(.pod, namespace: "default", never)
            let failed = try await waitForPod(store, "once", "Failed") { $0.status.phase == "Failed" }
            #expect(failed.status.containerStatuses.first?.exitCode == 7)
            #expect(failed.status.containerStatuses.first?.state?["terminated"]?["reason"]?.string == "Error")

            _ = try store.create(.pod, namespace: "default", podJSON("again", containers: [fakeVLLMContainer(port: 8002, extraArguments: ["--exit-after", "0.2", "--exit-code", "5"], probe: false)]))
            let restarted = try await waitForPod(store, "again", "a restart") { ($0.status.containerStatuses.first?.restartCount ?? 0) >= 1 }
            // The last run's log moved aside for `logs --previous`.
            let log = simulator.logPath(namespace: "default", pod: "again", container: "server")
            #expect(FileManager.default.fileExists(atPath: PodLogSource.previousPath(of: log)))
            let status = try #require(restarted.status.containerStatuses.first)
            #expect(status.json["lastState"]?["terminated"]?["exitCode"]?.int == 5)
            #expect(restarted.status.phase == "Running")
        }
    }

    @Test("other images are simulated: Running and Ready at once, the reason in its Started Event")
    func simulated() async throws {
        try await withSimulator { store, _ in
            var container = simulatedContainer().object!
            container["readinessProbe"] = ["httpGet": ["path": "/ready", "port": 9999]]
            _ = try store.create(.pod, namespace: "default", podJSON("sim", containers: [.object(container)]))
            let pod = try await waitForPod(store, "sim", "Ready") { $0.isReady }
            #expect(pod.status.phase == "Running")
            #expect(pod.status.containerStatuses.first?.json["message"] == nil, "no such field in a ContainerStatus")
            let message = store.events(about: "sim", reason: "Started").first?.message ?? ""
            #expect(message.contains("simulated") && message.contains("readiness probe"), "\(message)")
            _ = try store.delete(.pod, namespace: "default", name: "sim")
            try await waitUntil("the pod object to go") { store.pod("sim") == nil }
        }
    }

    @Test("deleting a node deletes its pods")
    func nodeDeletion() async throws {
        try await withSimulator(nodes: 1) { store, _ in
            _ = try store.create(.pod, namespace: "default", podJSON("p", containers: [fakeVLLMContainer()]))
            let ready = try await waitForPod(store, "p", "Ready") { $0.isReady }
            let pid = try #require(try JSONValue(parsing: httpGet(host: ready.status.podIP!, port: 8000, path: "/fma/process")!.body)["pid"]?.int.map { Int32($0) })
            _ = try store.delete(.node, namespace: "", name: "node-1")
            try await waitUntil("the pod object to go") { store.pod("p") == nil }
            #expect(!processExists(pid))
        }
    }

    @Test("$(VAR) expansion follows Kubernetes")
    func expansion() {
        let values = ["A": "1", "POD_IP": "127.0.1.3"]
        #expect(ContainerEnvironment.expand("--host=$(POD_IP)", values) == "--host=127.0.1.3")
        #expect(ContainerEnvironment.expand("$$(A) $(A) $(B)", values) == "$(A) 1 $(B)")
        #expect(ContainerEnvironment.expand("cost $5", values) == "cost $5")
    }

    @Test("restart backoff doubles from 1 s to the cap")
    func backoff() {
        let backoff = RestartBackoff(initial: .seconds(1), maximum: .seconds(10))
        #expect((0..<6).map { backoff.delay(afterRestarts: $0) } == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
    }
}

@Suite("Simulator: a container's processes live and die with it")
struct SimulatorContainerScopeTests {
    @Test("deleting a launcher pod also ends the vLLM instances it forked into their own sessions")
    func launcherInstancesDieWithThePod() async throws {
        try await withTemporaryDirectory { directory in
            try await withSimulator { store, simulator in
                let socket = directory + "/launcher.sock"
                let container: JSONValue = [
                    "name": "inference-server", "image": "fma/launcher",
                    "command": .array(["fma-launcher", "serve", "--listen", "unix:\(socket)", "--state-dir", "\(directory)/state",
                                       "--python-path", "\(repositoryRoot)/python", "--entrypoint", "fma_fakevllm", "--mock-gpus", "1",
                                       "--node-name", "$(NODE_NAME)"].map { .string($0) }),
                ]
                _ = try store.create(.pod, namespace: "default", podJSON("launcher", containers: [container], spec: ["terminationGracePeriodSeconds": 5]))
                let running = try await waitForPod(store, "launcher", "Running") { $0.status.phase == "Running" }
                let podIP = try #require(running.status.podIP)
                try await waitUntil(timeout: .seconds(30), "the launcher's socket") { FileManager.default.fileExists(atPath: socket) }
                let launcher = LauncherClient(RPCClient(address: .unix(path: socket)))
                var request = Fma_V1_CreateInstanceRequest()
                request.id = "scoped"
                request.options = ["--host", podIP, "--port", "8100"]
                let instance = try await launcher.create(request)
                try await waitUntil(timeout: .seconds(30), "the instance to answer") { LoopbackProbe.isHealthy(port: 8100, host: podIP) }
                #expect(processAlive(instance.pid), "launcher log: \((try? String(contentsOfFile: simulator.logPath(namespace: "default", pod: "launcher", container: "inference-server"), encoding: .utf8)) ?? "-") status: \(store.pod("launcher")?.json["status"]?.serializedString() ?? "-")")
                // The instance leads its own session: a process-group signal cannot reach it.
                #expect(getsid(instance.pid) == instance.pid)

                _ = try store.delete(.pod, namespace: "default", name: "launcher")
                try await waitUntil(timeout: .seconds(20), "the pod object to go") { store.pod("launcher") == nil }
                try await waitUntil(timeout: .seconds(10), "the instance to be gone") { !processAlive(instance.pid) }
            }
        }
    }
}

/// Whether `pid` runs (a zombie does not count).
func processAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}
