import FMAAPI
import FMAController
import FMADevCluster
import FMAJSON
import FMAKube
import FMAKubeModel
import FMAWire
import FMARPC
import FMATestSupport
import Foundation
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing

private let nextNodeIndexOffset = Atomic<Int>(0)

/// A one-machine cluster for the controller's end-to-end tests: fma-devcluster in process with
/// a node simulator that really runs launchers (fma-launcher with the fake vLLM) and requester
/// stubs (fma-gpu-inventory requester), and the controller in process against it.
struct ControllerCluster: Sendable {
    let client: KubeClient
    let directory: String
    let token: String
    let kubeconfigPath: String
    let namespace = "default"
    /// The metrics of the controllers this harness makes.
    let registry = PrometheusCollectorRegistry()

    /// Runs `body` with a cluster of `nodes` nodes × `gpus` GPUs and one controller.
    static func with<T: Sendable>(nodes: Int = 1, gpus: Int = 1, verifyCompletion: Bool = true, startController: Bool = true,
                                  configure: @escaping @Sendable (inout DualPodsController.Options) -> Void = { _ in },
                                  _ body: @Sendable (ControllerCluster) async throws -> T) async throws -> T {
        try await withTemporaryDirectory { directory in
            let token = "t-" + UUID().uuidString
            try token.write(toFile: directory + "/token", atomically: true, encoding: .utf8)
            let cluster = try DevCluster(configuration: DevCluster.Configuration(stateDirectory: directory + "/cluster"), logger: testLogger("fma.devcluster"))
            var simulatorConfiguration = NodeSimulator.Configuration(
                nodes: nodes, gpusPerNode: gpus, binDirectory: binDirectory, pythonDirectory: repositoryRoot + "/python",
                stateDirectory: directory + "/simulator", shutdownGracePeriod: .seconds(5))
            simulatorConfiguration.nodeIndexOffset = 40_000 + nextNodeIndexOffset.add(1100, ordering: .relaxed).oldValue
            cluster.addService(NodeSimulator(configuration: simulatorConfiguration, store: cluster.store, logger: testLogger("fma.devcluster.simulator")))
            let endpoints = try await cluster.start()
            return try await withRunningServices(cluster.services) { _ in
                let client = KubeClient(config: try KubeConfig.load(kubeconfig: endpoints.kubeconfigPath), logger: testLogger("fma.kube"))
                let harness = ControllerCluster(client: client, directory: directory, token: token, kubeconfigPath: endpoints.kubeconfigPath)
                let deadline = ContinuousClock.now + .seconds(30)
                while (try? await client.list(Node.self))?.items.count != nodes {
                    guard ContinuousClock.now < deadline else { throw CancellationError() }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let services: [any Service] = startController ? [ControllerService(harness.makeController(verifyCompletion: verifyCompletion, configure: configure))] : []
                let result = try await withRunningServices(services) { _ in
                    try await body(harness)
                }
                await client.shutdown()
                return result
            }
        }
    }

    func makeController(verifyCompletion: Bool = true, leaderElection: LeaderElector.Options? = nil,
                        configure: (inout DualPodsController.Options) -> Void = { _ in }) -> DualPodsController {
        var options = DualPodsController.Options(namespace: namespace)
        options.token = BearerToken(token)
        options.verifyCompletion = verifyCompletion
        options.leaderElection = leaderElection
        configure(&options)
        return DualPodsController(client: client, options: options, metrics: ControllerMetrics(registry: registry),
                                  logger: testLogger("fma.controller"))
    }

    /// The controller's metrics in Prometheus' text format.
    func metricsText() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    // MARK: Objects

    func applyLauncherConfig(name: String = "lc", maxInstances: Int = 2, nodeSelector: [String: String] = [:]) async throws {
        let command: [JSONValue] = [
            "fma-launcher", "serve", "--listen", "tcp://$(POD_IP):8100", "--token-file", .string(directory + "/token"),
            "--state-dir", .string(directory + "/launchers/$(POD_NAME)"), "--python-path", .string(repositoryRoot + "/python"),
            "--entrypoint", "fma_fakevllm", "--preload", "fma_fakevllm.server", "--mock-gpus", "8",
            "--rest-host", "$(POD_IP)", "--rest-port", "8001",
        ]
        let json: JSONObject = [
            "apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "LauncherConfig",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": ["maxInstances": .int(Int64(maxInstances)), "podTemplate": ["spec": [
                "terminationGracePeriodSeconds": 5,
                "nodeSelector": .object(JSONObject(nodeSelector.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                "containers": [["name": "inference-server", "image": "fma/launcher:test", "command": .array(command),
                                "ports": [["name": "fma-rpc", "containerPort": 8100], ["name": "launcher", "containerPort": 8001]]]],
            ]]],
        ]
        _ = try await client.create(LauncherConfig(json: json))
    }

    func applyISC(name: String, port: Int, launcherConfig: String = "lc", options: String = "--model fake/m",
                  labels: [String: String] = ["llm-d.ai/inference-serving": "true"]) async throws {
        var isc = ConfigurationTests.isc(name, port: port, options: options, labels: labels)
        isc.spec.launcherConfigName = launcherConfig
        _ = try await client.create(isc)
    }

    /// A server-requesting Pod whose stub speaks fma's RPC (`rpc`) or only FMA's HTTP SPI.
    @discardableResult
    func createRequester(_ name: String, isc: String, gpus: Int = 1, rpc: Bool = true) async throws -> Pod {
        let command: [JSONValue] = ["fma-gpu-inventory", "requester", "--listen", "tcp://$(POD_IP):8082", "--token-file", .string(directory + "/token"),
                                    "--http-host", "$(POD_IP)", "--probes-port", "8080", "--spi-port", "8081"]
        var ports: [JSONValue] = [["name": "probes", "containerPort": 8080], ["name": "spi", "containerPort": 8081]]
        if rpc { ports.append(["name": "fma-rpc", "containerPort": 8082]) }
        let json: JSONObject = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "namespace": .string(namespace),
                         "annotations": [.init(stringLiteral: DualPods.Annotation.inferenceServerConfig): .string(isc)]],
            "spec": ["terminationGracePeriodSeconds": 2, "containers": [[
                "name": "inference-server", "image": "fma/requester:test", "command": .array(command), "ports": .array(ports),
                "resources": ["limits": ["nvidia.com/gpu": .string(String(gpus))]],
                "readinessProbe": ["httpGet": ["path": "/ready", "port": 8080], "periodSeconds": 1],
            ]]],
        ]
        return try await client.create(Pod(json: json))
    }

    // MARK: Reads and waits

    func pod(_ name: String) async throws -> Pod? {
        do { return try await client.get(Pod.self, name: name, namespace: namespace) } catch where error.isNotFound { return nil }
    }

    func launcherPods() async throws -> [Pod] {
        try await client.list(Pod.self, namespace: namespace).items.filter { $0.metadata.labels[DualPods.Label.launcherConfigName] != nil }
    }

    /// Waits (bounded) until `condition` holds for the Pod named `name` (nil: it is gone).
    @discardableResult
    func waitForPod(_ name: String, timeout: Duration = .seconds(90), _ what: String, _ condition: @Sendable (Pod?) -> Bool) async throws -> Pod? {
        let deadline = ContinuousClock.now + timeout
        var last: Pod?
        while ContinuousClock.now < deadline {
            last = try await pod(name)
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for \(name): \(what); last seen: labels \(last?.metadata.labels ?? [:]), annotations \(last?.metadata.annotations ?? [:]), phase \(last?.status.phase ?? "-")")
        throw CancellationError()
    }

    func waitReady(_ name: String) async throws -> Pod {
        try await waitForPod(name, "Ready") { $0?.isReady == true }!
    }

    func waitGone(_ name: String) async throws {
        try await waitForPod(name, "gone") { $0 == nil }
    }

    /// A client for the launcher Pod's fma RPC.
    func launcher(_ pod: Pod) -> LauncherClient {
        LauncherClient(RPCClient(address: .tcp(host: pod.status.podIP ?? "", port: 8100), token: BearerToken(token)))
    }

    /// Waits (bounded) until the launcher reports a condition on its instances.
    func waitForInstances(_ launcherPod: Pod, _ what: String, timeout: Duration = .seconds(30),
                          _ condition: @Sendable ([String: Fma_V1_Instance]) -> Bool) async throws {
        let client = launcher(launcherPod)
        defer { Task { await client.rpc.close() } }
        let deadline = ContinuousClock.now + timeout
        var last: [String: Fma_V1_Instance] = [:]
        while ContinuousClock.now < deadline {
            if let list = try? await client.list() {
                last = Dictionary(list.instances.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
                if condition(last) { return }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for launcher \(launcherPod.metadata.name): \(what); instances \(last.mapValues { "\($0.status) \($0.sleepState)" })")
        throw CancellationError()
    }

    func events(about name: String) async throws -> [Event] {
        try await client.list(Event.self, namespace: namespace).items.filter { $0.json[path: ["involvedObject", "name"]]?.string == name }
    }
}


extension ControllerCluster {
    /// Sets `change` on the object `name` of kind `T`, retrying conflicts.
    func modify<T: KubeObject>(_ type: T.Type, _ name: String, _ change: @escaping (inout T) -> Void) async throws {
        _ = try await client.update(type, name: name, namespace: type.resourceKind.namespaced ? namespace : nil) { change(&$0) }
    }

    /// The single launcher Pod, once there is exactly one.
    func onlyLauncher() async throws -> Pod {
        let launchers = try await launcherPods()
        try #require(launchers.count == 1, "launchers: \(launchers.map(\.metadata.name))")
        return launchers[0]
    }
}
