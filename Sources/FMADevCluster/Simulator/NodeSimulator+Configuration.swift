import Foundation

extension NodeSimulator {
    /// What the simulator creates and where it finds the programs it runs.
    public struct Configuration: Sendable {
        /// The nodes to create, in order; node `i` (1-based) gets the loopback block 127.X.Y.0/24
        /// with X.Y = i / 256, i % 256.
        public var nodeNames: [String]
        /// Added to every node's index (and so moves its loopback block): simulators that run
        /// side by side in one process (tests) keep apart with different offsets.
        public var nodeIndexOffset: Int = 0
        /// Mock GPUs per node (`nvidia.com/gpu` capacity); their UUIDs are `MockGPUs.uuids(node:count:)`.
        public var gpusPerNode: Int
        /// Per node: its own GPU count, extra labels and allocatable resources (`--nodes-file`).
        public var nodeOverrides: [String: NodeOverrides] = [:]
        /// Where this project's executables are (`fma-launcher`, `fma-gpu-inventory`, ...).
        public var binDirectory: String
        /// The project's Python sources (`fma_fakevllm`, `fma_zygote`); becomes PYTHONPATH.
        /// Defaults to `python/` of the checkout the bin directory is in (`.build/debug`), if there.
        public var pythonDirectory: String?
        /// Per-container log files and other per-pod state go under here.
        public var stateDirectory: String
        /// The Python interpreter for `python3 -m MODULE` containers.
        public var python: String
        /// CPU and memory each node advertises.
        public var cpuPerNode: String
        public var memoryPerNode: String
        public var maxPodsPerNode: Int
        /// Runs `fma-gpu-inventory node --mock M` as a pod `gpu-inventory-NODE` in `fma-system`
        /// on every node.
        public var runGPUInventories: Bool
        /// The longest a container restart waits (the backoff starts at one second, doubling).
        public var maxRestartBackoff: Duration
        /// The longest the simulator waits for a container to stop when it is itself stopped.
        public var shutdownGracePeriod: Duration
        /// How often a container whose env names a missing Secret or ConfigMap (key) is tried
        /// again (CreateContainerConfigError).
        public var configurationRetryDelay: Duration = .seconds(2)
        /// How pods reach the API server with their ServiceAccount's token (`PodCredentials`);
        /// nil: pods get no credentials.
        public var apiAccess: PodAPIAccess?

        public init(
            nodes: Int = 1,
            gpusPerNode: Int = 4,
            nodeNames: [String]? = nil,
            binDirectory: String = Configuration.defaultBinDirectory,
            pythonDirectory: String? = nil,
            stateDirectory: String,
            python: String = "python3",
            cpuPerNode: String = "16",
            memoryPerNode: String = "64Gi",
            maxPodsPerNode: Int = 110,
            runGPUInventories: Bool = false,
            maxRestartBackoff: Duration = .seconds(10),
            shutdownGracePeriod: Duration = .seconds(10)
        ) {
            self.nodeNames = nodeNames ?? (0..<max(0, nodes)).map { "node-\($0 + 1)" }
            self.gpusPerNode = max(0, gpusPerNode)
            self.binDirectory = binDirectory
            self.pythonDirectory = pythonDirectory ?? Self.checkoutPythonDirectory(binDirectory: binDirectory)
            self.stateDirectory = stateDirectory
            self.python = python
            self.cpuPerNode = cpuPerNode
            self.memoryPerNode = memoryPerNode
            self.maxPodsPerNode = maxPodsPerNode
            self.runGPUInventories = runGPUInventories
            self.maxRestartBackoff = maxRestartBackoff
            self.shutdownGracePeriod = shutdownGracePeriod
        }

        /// `python/` of the first of the bin directory's parents (up to four up) that holds the
        /// fake vLLM there: a build inside the checkout (`.build/debug`, `.build/ARCH/debug`).
        static func checkoutPythonDirectory(binDirectory: String) -> String? {
            var url = URL(fileURLWithPath: binDirectory).standardized
            for _ in 0..<4 {
                url.deleteLastPathComponent()
                let candidate = url.appendingPathComponent("python").path
                if FileManager.default.fileExists(atPath: candidate + "/fma_fakevllm/__init__.py") { return candidate }
            }
            return nil
        }

        /// The directory of the running executable.
        public static var defaultBinDirectory: String {
            URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent().path
        }
    }
}
