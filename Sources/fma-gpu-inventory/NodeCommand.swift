import ArgumentParser
import FMACommand
import FMAGPUInventory
import FMARPC
import Foundation

/// `fma-gpu-inventory [node]`: the GPUs of this node over fma.v1.GPUInventory.
struct NodeCommand: AsyncParsableCommand {
    static let defaultListen = "unix:/run/fma/gpu-inventory.sock"

    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Serve this node's GPUs: ListDevices, Translate (UUID → index), MemoryUsage, WatchDevices, Health.",
        discussion: """
            GPUs come from NVML (libnvidia-ml.so.1, loaded at run time; nothing links against the \
            driver), or from a mock: --mock N simulates N GPUs whose UUIDs derive from the node \
            name (the same on every fma component of that node), --mock-file FILE reads FMA's \
            gpu-map entry format, {"GPU-…": 0, …}, where a value may also be \
            {"index": 0, "memoryTotalMiB": 81920, "memoryUsedMiB": 1024, "name": "…"}. The file is \
            read again at every sample, so replacing it changes what watchers see.

            Without --listen it serves on \(defaultListen) (the directory is created if missing). \
            WatchDevices samples the GPUs only while someone watches.

            Exit status: 0 after SIGTERM or SIGINT (calls in flight drained), 64 on bad usage (a \
            bad --mock-file included), 69 when NVML is unavailable and no mock was asked for, 1 \
            on any other failure (e.g. an address that cannot be listened on).

            Examples:
              fma-gpu-inventory --mock 4 --node-name node-a --listen unix:/tmp/gpus.sock
              fmactl gpus list unix:/tmp/gpus.sock
            """)

    @Option(name: .customLong("node-name"), help: ArgumentHelp("The node's name (default: $NODE_NAME, else the host name).", valueName: "name"))
    var nodeName: String?

    @Option(name: .customLong("mock"), help: ArgumentHelp("Simulate N GPUs instead of asking NVML.", valueName: "N"))
    var mock: Int?

    @Option(name: .customLong("mock-file"), help: ArgumentHelp("Simulate the GPUs FILE lists (FMA's gpu-map entry format).", valueName: "file"))
    var mockFile: String?

    @OptionGroup var nvml: NVMLOptions

    @OptionGroup var server: ServerOptions

    func validate() throws {
        if mock != nil && mockFile != nil { throw ValidationError("give --mock or --mock-file, not both") }
        if let mock, !(0...1024).contains(mock) { throw ValidationError("--mock \(mock) is not a GPU count from 0 to 1024") }
    }

    func run() async throws {
        let logger = try LogSetup.bootstrap(component: "fma-gpu-inventory", level: server.logLevel)
        logger.debug("open-file limit", metadata: ["limit": "\(DescriptorLimit.raiseToHard())"])
        ServerRunner.bootstrapMetrics()
        let node = HostIdentity.nodeName(nodeName)
        let probe: any GPUProbe
        if let mock {
            probe = MockProbe(node: node, count: mock)
        } else if let mockFile {
            do { probe = try MockFileProbe(path: mockFile) } catch { throw ValidationError("--mock-file: \(error.message)") }
        } else {
            do {
                probe = try NVMLProbe(library: nvml.library)
            } catch {
                FileHandle.standardError.write(Data("""
                    fma-gpu-inventory: NVML is unavailable: \(error.message)
                    On a machine without an NVIDIA driver, simulate the GPUs: --mock N (N GPUs whose UUIDs derive from \
                    the node name) or --mock-file FILE (FMA's gpu-map entry format, {"GPU-…": 0, …}).\n
                    """.utf8))
                throw ExitCode(ExitStatus.nvmlUnavailable)
            }
        }
        try SocketDirectories.create(for: server.listen)
        let inventory = GPUInventory(nodeName: node, probe: probe, logger: logger)
        do {
            let devices = try await inventory.listDevices().devices
            logger.info("GPUs found", metadata: ["node": "\(node)", "source": "\(probe.source)", "count": "\(devices.count)",
                                                 "uuids": "\(devices.map(\.uuid).joined(separator: ","))"])
        } catch {
            logger.warning("the first sample of the GPUs failed", metadata: ["node": "\(node)", "error": "\(error.message)"])
        }
        try await ServerRunner.run(component: "fma-gpu-inventory", services: [GPUInventoryService(inventory)], options: server, logger: logger)
    }

    /// `arguments` with `--listen \(defaultListen)` added when node mode is meant and no
    /// `--listen` (nor help or version) is given.
    static func withDefaultListen(_ arguments: [String]) -> [String] {
        if let first = arguments.first, first == RequesterCommand.configuration.commandName || first == "help" { return arguments }
        let asked = arguments.prefix { $0 != "--" }
        let given = asked.contains { $0 == "--listen" || $0.hasPrefix("--listen=") || ["-h", "--help", "--version"].contains($0) }
        if given { return arguments }
        var result = Array(asked) + ["--listen", defaultListen]
        result += arguments.dropFirst(asked.count)
        return result
    }
}
