import ArgumentParser
import FMAAPI
import FMAJSON
import FMAKube
import FMAKubeModel
import FMARPC
import Foundation

/// The objects and steps of `fma-bench controller`: a LauncherConfig, InferenceServerConfigs and
/// requesters made from JSON text, and waits on what a user sees (Pods Ready, Pods gone).
struct ControllerActuations {
    let client: KubeClient
    let directory: String
    let token: String
    let runs: Int
    let namespace = "default"
    /// Instances per launcher: warm runs past it evict the least recently used sleeper.
    let maxInstances = 4

    // MARK: Objects

    func createConfigs(checkout: String) async throws {
        let command = Self.jsonArray([
            "fma-launcher", "serve", "--listen", "tcp://$(POD_IP):8100", "--token-file", directory + "/token",
            "--state-dir", directory + "/launchers/$(POD_NAME)", "--python-path", checkout + "/python",
            "--entrypoint", "fma_fakevllm", "--preload", "fma_fakevllm.server", "--mock-gpus", "1",
            "--log-level", "warning",
        ])
        let launcherConfig = """
            {"apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "LauncherConfig",
             "metadata": {"name": "lc", "namespace": "\(namespace)"},
             "spec": {"maxInstances": \(maxInstances), "podTemplate": {"spec": {
               "terminationGracePeriodSeconds": 2,
               "containers": [{"name": "inference-server", "image": "fma/launcher", "command": \(command),
                               "ports": [{"name": "fma-rpc", "containerPort": 8100}]}]}}}}
            """
        _ = try await client.create(LauncherConfig(json: try Self.object(launcherConfig)))
        var names = ["hot", "exit-a", "exit-b"]
        for index in 0..<runs {
            names.append("warm-\(index)")
            names.append("cold-\(index)")
        }
        for name in names {
            let isc = """
                {"apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "InferenceServerConfig",
                 "metadata": {"name": "\(name)", "namespace": "\(namespace)"},
                 "spec": {"launcherConfigName": "lc",
                          "modelServerConfig": {"port": 8005, "options": "--model fake/\(name)"}}}
                """
            _ = try await client.create(InferenceServerConfig(json: try Self.object(isc)))
        }
    }

    func requester(_ name: String, isc: String) throws -> Pod {
        try requester(name, annotations: ["dual-pods.llm-d.ai/inference-server-config": isc])
    }

    /// Direct mode: the server patch runs the fake vLLM instead of the stub; `variant` (an env
    /// var) makes specs, hence providers, differ.
    func directRequester(_ name: String, variant: String) throws -> Pod {
        let patch = """
            {"metadata": {"labels": {"app": null}}, "spec": {"terminationGracePeriodSeconds": 1, "containers": [{"name": "inference-server",
              "command": ["python3", "-m", "fma_fakevllm", "--port", "8000", "--model", "fake/direct"],
              "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}, "periodSeconds": 1}}]}}
            """
        return try requester(name, annotations: ["dual-pods.llm-d.ai/server-patch": patch], env: ["VARIANT": variant])
    }

    /// The ConfigMap gpu-map of direct mode: the one node's one GPU.
    func createGPUMap() async throws {
        var map = ConfigMap(name: "gpu-map", namespace: namespace)
        map.data = ["node-1": "{\"\(MockGPUs.uuid(node: "node-1", index: 0))\": 0}"]
        _ = try await client.create(map)
    }

    private func requester(_ name: String, annotations: [String: String], env: [String: String] = [:]) throws -> Pod {
        let command = Self.jsonArray([
            "fma-gpu-inventory", "requester", "--listen", "tcp://$(POD_IP):8082", "--token-file", directory + "/token",
            "--http-host", "$(POD_IP)", "--probes-port", "8080", "--spi-port", "8081", "--log-level", "warning",
        ])
        let annotationsJSON = JSONValue(stringMap: annotations).serializedString()
        let envJSON = JSONValue.array(env.sorted { $0.key < $1.key }.map { ["name": .string($0.key), "value": .string($0.value)] }).serializedString()
        let pod = """
            {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "\(name)", "namespace": "\(namespace)", "labels": {"app": "bench"}, "annotations": \(annotationsJSON)},
             "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
               "name": "inference-server", "image": "fma/requester", "command": \(command), "env": \(envJSON),
               "ports": [{"name": "probes", "containerPort": 8080}, {"name": "spi", "containerPort": 8081},
                         {"name": "fma-rpc", "containerPort": 8082}],
               "resources": {"limits": {"nvidia.com/gpu": "1"}},
               "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 1}}]}}
            """
        return Pod(json: try Self.object(pod))
    }

    static func jsonArray(_ strings: [String]) -> String {
        JSONValue.array(strings.map { JSONValue.string($0) }).serializedString()
    }

    static func object(_ text: String) throws -> JSONObject {
        guard let object = try JSONValue(parsing: text).object else { throw ValidationError("not a JSON object: \(text)") }
        return object
    }

    // MARK: Steps

    /// One requester served and deleted; returns its create → Ready time (wall clock; it
    /// includes the kubelet's 1 s readiness-probe period).
    /// `path`: hot, warm or cold through launchers; direct-hot (the same spec each run: its
    /// provider sleeps between runs) or direct-cold (a new spec each run: a new provider, the
    /// least recently used sleeper evicted past --sleeper-limit).
    func actuate(path: String, index: Int) async throws -> Double {
        let name = "\(path)-\(index)"
        switch path {
        case "direct-hot": return try await serveAndDelete(try directRequester(name, variant: "hot"))
        case "direct-cold": return try await serveAndDelete(try directRequester(name, variant: name))
        case "cold": try await deleteLaunchers()
        default: break
        }
        return try await serveAndDelete(try requester(name, isc: path == "hot" ? "hot" : name))
    }

    /// Serves one requester for the "hot" config (or direct spec): it then sleeps for the hot runs.
    func seedHotInstance(direct: Bool = false) async throws {
        _ = try await serveAndDelete(direct ? try directRequester("direct-hot-seed", variant: "hot") : try requester("hot-seed", isc: "hot"))
    }

    private func serveAndDelete(_ pod: Pod) async throws -> Double {
        let name = pod.metadata.name
        let start = ContinuousClock.now
        _ = try await client.create(pod)
        try await waitFor(name, "Ready") { $0?.isReady == true }
        let seconds = Self.seconds(ContinuousClock.now - start)
        _ = try await client.delete(Pod.self, name: name, namespace: namespace)
        try await waitFor(name, "gone") { $0 == nil }
        return seconds
    }

    private func deleteLaunchers() async throws {
        let pods = try await client.list(Pod.self, namespace: namespace).items
        for pod in pods where pod.metadata.labels["dual-pods.llm-d.ai/launcher-config-name"] != nil {
            _ = try await client.delete(Pod.self, name: pod.metadata.name, namespace: namespace)
            try await waitFor(pod.metadata.name, "gone") { $0 == nil }
        }
    }

    /// Kills the instance of a served requester, `runs` times, and times instance exit →
    /// the requester's deletion as a watch on it sees it.
    func instanceExits() async throws -> [Double] {
        var results: [Double] = []
        for index in 0..<runs {
            let name = "exit-\(index)"
            _ = try await client.create(try requester(name, isc: index % 2 == 0 ? "exit-a" : "exit-b"))
            let served = try await waitFor(name, "Ready") { $0?.isReady == true }
            guard let served, let pid = try await instancePID(of: served) else {
                print("  exit run \(index): the served instance's pid is unknown; run skipped")
                continue
            }
            let watch = try await client.watch(Pod.self, namespace: namespace, fieldSelector: FieldSelector.equals("metadata.name", name),
                                               resourceVersion: served.metadata.resourceVersion)
            let killed = ContinuousClock.now
            kill(pid, SIGKILL)
            for try await event in watch where event.type == .deleted || event.object.isTerminating {
                results.append(Self.seconds(ContinuousClock.now - killed))
                break
            }
            watch.cancel()
            try await waitFor(name, "gone") { $0 == nil }
        }
        return results
    }

    /// The pid of the running instance in the launcher bound to `requester`, from its fma RPC.
    private func instancePID(of requester: Pod) async throws -> Int32? {
        guard let launcherName = requester.metadata.labels["dual-pods.llm-d.ai/dual"],
              let instanceID = requester.metadata.labels["dual-pods.llm-d.ai/instance"] else { return nil }
        let launcher = try await client.get(Pod.self, name: launcherName, namespace: namespace)
        guard let ip = launcher.status.podIP else { return nil }
        let rpc = RPCClient(address: .tcp(host: ip, port: 8100), token: BearerToken(token))
        let instance = try await LauncherClient(rpc).get(instanceID)
        await rpc.close()
        return instance.pid > 0 ? instance.pid : nil
    }

    // MARK: Waits

    @discardableResult
    func waitFor(_ name: String, _ what: String, timeout: Duration = .seconds(120), _ condition: (Pod?) -> Bool) async throws -> Pod? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let pod = try await get(name)
            if condition(pod) { return pod }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw ValidationError("Pod \(name) was not \(what) within \(timeout)")
    }

    private func get(_ name: String) async throws -> Pod? {
        do {
            return try await client.get(Pod.self, name: name, namespace: namespace)
        } catch {
            if error.isNotFound { return nil }
            throw error
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
