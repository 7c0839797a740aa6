@testable import FMADevCluster
import FMAJSON
import FMAKubeModel
import FMATestSupport
import Foundation
import Synchronization

/// Address blocks of in-process simulators; the first (offset 0, node-1 at 127.0.1.x) is left
/// to the fma-devcluster processes tests start, which use it (RestartTests).
private let nextNodeIndexOffset = Atomic<Int>(1100)

/// Runs a node simulator against a fresh in-memory store for the duration of `body`, then
/// stops it (which stops every process it started).
func withSimulator<T: Sendable>(
    nodes: Int = 1, gpusPerNode: Int = 2, overrides: [String: NodeOverrides] = [:],
    _ body: @Sendable (ObjectStore, NodeSimulator) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { directory in
        let store = ObjectStore()
        var configuration = NodeSimulator.Configuration(
            nodes: nodes, gpusPerNode: gpusPerNode, binDirectory: binDirectory, pythonDirectory: repositoryRoot + "/python",
            stateDirectory: directory + "/state", shutdownGracePeriod: .seconds(5))
        configuration.configurationRetryDelay = .milliseconds(200)
        configuration.nodeOverrides = overrides
        // Simulators of tests running side by side get address blocks of their own.
        configuration.nodeIndexOffset = nextNodeIndexOffset.add(1100, ordering: .relaxed).oldValue
        // FMA_TEST_LOG=debug shows the simulator's log on stderr.
        let simulator = NodeSimulator(configuration: configuration, store: store, logger: testLogger("fma.devcluster.simulator"))
        return try await withRunningServices([simulator]) { _ in
            try await waitUntil("the simulator's nodes") { (try store.list(.node, namespace: nil).items.count) == nodes }
            return try await body(store, simulator)
        }
    }
}

/// A pod object: `containers` are JSON container specs.
func podJSON(_ name: String, namespace: String = "default", containers: [JSONValue], spec extra: JSONObject = [:], labels: [String: String] = [:]) -> JSONObject {
    var spec: JSONObject = ["containers": .array(containers)]
    for (key, value) in extra { spec[key] = value }
    var metadata: JSONObject = ["name": .string(name), "namespace": .string(namespace)]
    if !labels.isEmpty { metadata["labels"] = JSONValue(stringMap: labels) }
    return ["apiVersion": "v1", "kind": "Pod", "metadata": .object(metadata), "spec": .object(spec)]
}

/// A container the kubelet simulates (its image's entrypoint is not run).
func simulatedContainer(_ name: String = "main", gpus: Int = 0) -> JSONValue {
    var container: JSONObject = ["name": .string(name), "image": "registry.example/app:1"]
    if gpus > 0 { container["resources"] = ["limits": ["nvidia.com/gpu": .string(String(gpus))]] }
    return .object(container)
}

/// The fake vLLM on `$(POD_IP)`:`port`, with a readiness probe on `/health`.
func fakeVLLMContainer(port: Int = 8000, gpus: Int = 0, extraArguments: [String] = [], probe: Bool = true) -> JSONValue {
    var container: JSONObject = [
        "name": "server", "image": "fma/fake-vllm",
        "command": ["python3", "-m", "fma_fakevllm"],
        "args": .array((["--host", "$(POD_IP)", "--port", String(port)] + extraArguments).map { .string($0) }),
        "ports": [["name": "http", "containerPort": .int(Int64(port))]],
        "env": [
            ["name": "MY_POD", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
            ["name": "GREETING", "value": "hello from $(NODE_NAME)"],
        ],
    ]
    if probe {
        container["readinessProbe"] = ["httpGet": ["path": "/health", "port": "http"], "periodSeconds": 1, "failureThreshold": 1]
    }
    if gpus > 0 { container["resources"] = ["limits": ["nvidia.com/gpu": .string(String(gpus))]] }
    return .object(container)
}

extension ObjectStore {
    func pod(_ name: String, namespace: String = "default") -> Pod? {
        (try? get(.pod, namespace: namespace, name: name)).map(Pod.init(json:))
    }

    func events(about name: String, reason: String) -> [Event] {
        ((try? list(.event, namespace: nil).items) ?? []).map(Event.init(json:)).filter {
            $0.involvedObject.name == name && $0.reason == reason
        }
    }
}

/// Waits for `pod` to satisfy `condition`; returns it.
@discardableResult
func waitForPod(_ store: ObjectStore, _ name: String, namespace: String = "default", timeout: Duration = .seconds(60), _ what: String, _ condition: @escaping (Pod) -> Bool) async throws -> Pod {
    try await waitUntil(timeout: timeout, "\(name): \(what)") { store.pod(name, namespace: namespace).map(condition) ?? false }
    return store.pod(name, namespace: namespace)!
}

func processExists(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || errno != ESRCH
}

/// A blocking HTTP/1.0 GET on `host:port` (loopback); the status and body, nil when nothing answers.
func httpGet(host: String, port: Int, path: String) -> (status: Int, body: String)? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: \(host)\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count <= 0 { break }
        response += buffer[0..<count]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard text.hasPrefix("HTTP/"), let status = Int(text.split(separator: " ").dropFirst().first ?? "") else { return nil }
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}
