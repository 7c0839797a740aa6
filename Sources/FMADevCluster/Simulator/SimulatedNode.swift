import FMAAPI
import FMAJSON
import FMAKubeModel

/// A node of the simulator: its name, its index (which fixes its loopback block) and what it
/// offers. Builds the Node object the simulator creates.
struct SimulatedNode: Sendable, Hashable {
    let name: String
    /// 1-based; 127.X.Y.0/24 with X.Y = index / 256, index % 256 is the node's loopback block.
    let index: Int
    let gpus: Int
    /// Labels and allocatable resources from the nodes file.
    var overrides = NodeOverrides()

    static let gpuResource = "nvidia.com/gpu"

    /// `127.X.Y.` for this node's addresses.
    var addressPrefix: String { "127.\((index / 256) % 256).\(index % 256)." }

    /// The node's own address (InternalIP, a pod's hostIP).
    var address: String { addressPrefix + "0" }

    /// Pod addresses per node (slots 1...254 of its 127.X.Y.0/24).
    static let podAddresses = 254

    /// The address of pod slot `slot` (1...254).
    func podAddress(slot: Int) -> String { addressPrefix + String(slot) }

    /// Every field a kubelet reports in `status.nodeInfo` (clients' models require them all):
    /// the host's kernel and OS image, ids derived from the node's name (stable across
    /// restarts), a boot id new with each simulator run.
    var nodeInfo: JSONObject {
        func id(_ purpose: String) -> String {
            MockGPUs.uuid(node: "\(purpose):\(name)", index: 0).dropFirst(4).lowercased()
        }
        return [
            "machineID": .string(id("machine").replacing("-", with: "")),
            "systemUUID": .string(id("system")),
            "bootID": .string(Self.bootID),
            "kernelVersion": .string(HostInfo.kernelVersion),
            "osImage": .string(HostInfo.osImage),
            "containerRuntimeVersion": "fma-devcluster://simulated",
            "kubeletVersion": .string(Discovery.kubernetesVersion.git),
            "kubeProxyVersion": .string(Discovery.kubernetesVersion.git),
            "operatingSystem": "linux",
            "architecture": "amd64",
        ]
    }

    /// One boot per simulator process.
    private static let bootID = Timestamp.uid()

    func object(cpu: String, memory: String, maxPods: Int, now: String) -> JSONObject {
        var labels: [String: String] = [
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "fma.llm-d.ai/simulated": "true",
        ]
        if gpus > 0 { labels["nvidia.com/gpu.present"] = "true" }
        labels.merge(overrides.labels) { _, new in new }
        // The kubelet has 254 pod addresses per node: more pods could not start.
        var resources: [String: String] = ["cpu": cpu, "memory": memory, "pods": String(min(maxPods, Self.podAddresses))]
        if gpus > 0 { resources[Self.gpuResource] = String(gpus) }
        resources.merge(overrides.allocatable) { _, new in new }
        var node = Node(name: name)
        node.metadata.labels = labels
        var status = NodeStatus()
        status.capacity = resources
        status.allocatable = resources
        var ready = Condition(type: "Ready", status: true, reason: "KubeletReady", message: "fma-devcluster's simulated kubelet is posting ready status", lastTransitionTime: now)
        ready.json["lastHeartbeatTime"] = .string(now)
        status.conditions = [ready]
        status.addresses = [
            ["type": "InternalIP", "address": .string(address)],
            ["type": "Hostname", "address": .string(name)],
        ]
        status.json["nodeInfo"] = .object(nodeInfo)
        node.status = status
        return node.json
    }
}
