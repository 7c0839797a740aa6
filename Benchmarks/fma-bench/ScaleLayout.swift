import FMAAPI

/// Names and addresses of `fma-bench scale`, which its processes derive alike: hollow node n
/// (1-based) owns the loopback block 127.(100 + n / 256).(n % 256).0/24 — its own address .1,
/// launcher Pods .2 to .(2 + GPUs) (a launcher serves one requester at a time, so a node needs
/// one per GPU, and one spare), and the requester of GPU g .(64 + g).
struct ScaleLayout: Sendable {
    var nodes: Int
    var gpusPerNode: Int

    static let namespace = "default"
    static let launcherConfig = "lc"
    static let launcherPort = 8100
    static let requesterPort = 8082
    var launcherSlots: ClosedRange<Int> { 2...(2 + gpusPerNode) }
    static let maxGPUsPerNode = 32
    /// Nodes per `fma-bench scale-launchers` process (its descriptors stay well under 20,000).
    static let nodesPerLauncherProcess = 250
    /// Instances per launcher: room for every GPU's instance, so the second wave can be hot.
    var maxInstances: Int { gpusPerNode * 2 }

    static let maxNodes = 155 * 256 - 1

    static func nodeName(_ node: Int) -> String { "hollow-\(node)" }

    static func nodeIndex(_ name: String) -> Int? {
        guard name.hasPrefix("hollow-") else { return nil }
        return Int(name.dropFirst("hollow-".count))
    }

    static func address(node: Int, slot: Int) -> String { "127.\(100 + node / 256).\(node % 256).\(slot)" }

    static func requesterName(node: Int, gpu: Int) -> String { "req-\(node)-\(gpu)" }

    static func requesterSlot(gpu: Int) -> Int { 64 + gpu }

    static func gpuUUID(node: Int, gpu: Int) -> String { MockGPUs.uuid(node: nodeName(node), index: gpu) }

    /// One InferenceServerConfig per GPU index, each with its own port, so a launcher can hold
    /// every GPU's instance at once.
    static func iscName(gpu: Int) -> String { "isc-\(gpu)" }

    static func instancePort(gpu: Int) -> Int { 8000 + gpu }

    /// The label giving a requester's GPU index (so the hollow kubelet knows its address).
    static let gpuLabel = "fma-bench/gpu"
}
