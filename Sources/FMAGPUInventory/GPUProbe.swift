import FMAAPI
public import FMARPC
public import FMAWire

/// Where a node's GPU facts come from: NVML, or a mock for machines without GPUs.
public protocol GPUProbe: Sendable {
    /// "nvml", "mock" or "mock-file", as `ListDevices` reports it.
    var source: String { get }
    /// Every GPU as it is now, in index order. Errors are `RPCError`s naming the source
    /// (UNAVAILABLE when it cannot be read).
    func sample() async throws(RPCError) -> [Fma_V1_GPUDevice]
}

/// `--mock N`: N GPUs on `node`, with the UUIDs every fma component derives from the node name
/// (`MockGPUs.uuid(node:index:)`), 80 GiB each, none in use.
public struct MockProbe: GPUProbe {
    /// What a mock GPU has: 80 GiB, like an H100 80GB.
    public static let memoryTotalBytes: UInt64 = 80 << 30
    public static let name = "Mock GPU"

    public let node: String
    public let count: Int
    public var source: String { "mock" }

    public init(node: String, count: Int) {
        self.node = node
        self.count = count
    }

    public func sample() -> [Fma_V1_GPUDevice] {
        MockGPUs.uuids(node: node, count: count).enumerated().map { index, uuid in
            Fma_V1_GPUDevice.with {
                $0.index = UInt32(index)
                $0.uuid = uuid
                $0.name = Self.name
                $0.memoryTotalBytes = Self.memoryTotalBytes
            }
        }
    }
}
