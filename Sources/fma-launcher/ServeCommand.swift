import ArgumentParser
import FMAAPI
import FMACommand
import FMALauncher
import FMAHTTPServer
import FMARPC
import Foundation
import Logging
import ServiceLifecycle

/// `fma-launcher serve`: the launcher server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve fma.v1.Launcher (and Health) on the --listen addresses.",
        discussion: """
            Examples:
              fma-launcher serve --listen unix:/run/fma/launcher.sock --mock-gpus 8
              fma-launcher serve --listen unix:/tmp/l.sock --python-path ./python \\
                  --entrypoint fma_fakevllm --preload fma_fakevllm.server --preload scipy.stats

            Instances' logs and the journal live in --state-dir. GPU UUIDs given to an instance \
            become CUDA_VISIBLE_DEVICES indices, translated by the node's fma-gpu-inventory \
            (--gpu-inventory) or by a built-in mock (--mock-gpus N).
            """)

    @OptionGroup var server: ServerOptions

    @Option(help: "Where the journal and the instance logs live.")
    var stateDir: String = "/tmp/fma-launcher"

    @Option(help: "fork: from the preinitialized zygote (warm). exec: a fresh process each time (cold; non-Python servers).")
    var spawn: String = "fork"

    @Option(help: "The Python interpreter for the zygote.")
    var python: String = "python3"

    @Option(help: ArgumentHelp("A directory for the zygote's PYTHONPATH (repeatable); fma's Python code must be reachable.", valueName: "dir"))
    var pythonPath: [String] = []

    @Option(help: ArgumentHelp("A module the zygote imports before forking (repeatable). Default: what vLLM's OpenAI server needs.", valueName: "module"))
    var preload: [String] = []

    @Option(help: "The module each instance runs as __main__.")
    var entrypoint: String = "vllm.entrypoints.cli.main"

    @Option(name: .customLong("entrypoint-arg"), help: ArgumentHelp("An argument before the instance's options (repeatable). Default: serve with vLLM's entry point, none with any other.", valueName: "arg"))
    var entrypointArguments: [String] = []

    @Flag(help: "Pass no arguments before the instance's options, not even vLLM's serve (other entry points get none anyway).")
    var noEntrypointArgs = false

    @Flag(help: "Fork each instance when it is created, instead of handing it to a child the zygote forked ahead of time (its spare; the default saves the fork, about 3 ms of each warm start, for one idle process).")
    var noSpare = false

    @Option(help: ArgumentHelp("With --spawn exec: the command to run instead of `python -m ENTRYPOINT` (split like a shell would).", valueName: "command"))
    var execCommand: String?

    @Option(help: "The most instances at once.")
    var maxInstances: Int = 64

    @Option(help: ArgumentHelp("auto: each forked instance gets a cgroup of its own where this launcher can make one (a writable cgroup v2 subtree or v1 pids hierarchy), so a delete kills every process the instance started, even a daemon that sent its output to /dev/null; it adds about 13 ms to each instance's start here (moving a process into a cgroup waits for the kernel). off: an instance's leftover processes are found by their output on its log.", valueName: "auto|off"))
    var instanceCgroups: String = "off"

    @Option(help: "How many past events a watch can resume from (WatchInstances since).")
    var eventHistory: Int = 1000

    @Option(help: "Default seconds between SIGTERM and SIGKILL when deleting an instance.")
    var gracePeriod = Seconds(10)

    @Option(help: "Seconds an instance's /sleep and /wake_up may take (large models take minutes).")
    var sleepTimeout = Seconds(600)

    @Option(help: "Seconds for other calls to an instance's admin API (/is_sleeping).")
    var adminTimeout = Seconds(30)

    @Option(help: "Seconds between /health probes of a ready instance (Instance.ready, READY and NOT_READY events; a starting one is probed from every 10 ms up to every 250 ms); 0 turns the probe off, and then no instance ever reports ready (fmactl launcher create --wait waits out its timeout; fma-controller falls back to asking the server).")
    var readyProbeInterval = Seconds(5)

    @Option(help: "Seconds one /health probe waits for an answer.")
    var readyProbeTimeout = Seconds(2)

    @Option(help: "Mock this many GPUs (UUIDs as fma-gpu-inventory --mock derives them for --node-name) instead of asking the GPU inventory.")
    var mockGpus: Int?

    @Option(help: "The node's fma-gpu-inventory, which translates GPU UUIDs to indices (used unless --mock-gpus is given).")
    var gpuInventory: String = "unix:/run/fma/gpu-inventory.sock"

    @Option(help: "The node name for mock GPU UUIDs (default: $NODE_NAME, else the host name).")
    var nodeName: String?

    @Option(help: "Also serve FMA's launcher REST API (paths /v2/vllm/instances…) on this TCP port (0: a free one).")
    var restPort: Int?

    @Option(help: """
        The address the REST API listens on. On a loopback address it answers only requests whose \
        Host names a loopback address; on any other (FMA's controller needs the Pod's address in a \
        cluster) it needs --rest-token-file or --rest-insecure.
        """)
    var restHost: String = "127.0.0.1"

    @Option(help: ArgumentHelp("A file holding the bearer token every REST request must carry (Authorization: Bearer …).", valueName: "file"))
    var restTokenFile: String?

    @Flag(help: "Serve the REST API on a non-loopback --rest-host without a token (FMA's controller sends none): only where nothing but the controller can reach it.")
    var restInsecure = false

    @Option(help: ArgumentHelp("The address the launcher calls instances' admin APIs (/sleep, /wake_up, /is_sleeping, /health) on (default: $POD_IP when set, else 127.0.0.1).", valueName: "host"))
    var instanceHost: String?

    func validate() throws {
        guard LauncherConfiguration.SpawnMode(rawValue: spawn) != nil else {
            throw ValidationError("--spawn must be fork or exec, not '\(spawn)'")
        }
        guard maxInstances > 0 else { throw ValidationError("--max-instances must be positive") }
        guard ["auto", "off"].contains(instanceCgroups) else {
            throw ValidationError("--instance-cgroups must be auto or off, not '\(instanceCgroups.prefix(40))'")
        }
        guard eventHistory > 0 else { throw ValidationError("--event-history must be positive") }
        guard sleepTimeout.value > 0, adminTimeout.value > 0, readyProbeTimeout.value > 0 else {
            throw ValidationError("--sleep-timeout, --admin-timeout and --ready-probe-timeout must be positive")
        }
        if let mockGpus, mockGpus < 0 { throw ValidationError("--mock-gpus must not be negative") }
        if restPort != nil, !RESTAccess.isLoopback(host: restHost), restTokenFile == nil, !restInsecure {
            throw ValidationError("""
                --rest-host \(restHost) can be reached from other machines: give --rest-token-file FILE (clients send it as \
                Authorization: Bearer …), or --rest-insecure where only the controller can reach that address
                """)
        }
    }

    func run() async throws {
        var server = self.server
        if server.listen.isEmpty { server.listen = ["unix:/run/fma/launcher.sock"] }
        let logger = try LogSetup.bootstrap(component: "fma-launcher", level: server.logLevel)
        logger.debug("open-file limit", metadata: ["limit": "\(DescriptorLimit.raiseToHard())"])
        var configuration = LauncherConfiguration(stateDirectory: stateDir)
        configuration.spawnMode = LauncherConfiguration.SpawnMode(rawValue: spawn)!
        configuration.python = python
        configuration.pythonPath = pythonPath.isEmpty ? Self.defaultPythonPath() : pythonPath
        if !preload.isEmpty { configuration.preload = preload }
        configuration.entrypoint = entrypoint
        if noEntrypointArgs {
            configuration.entrypointArguments = []
        } else if !entrypointArguments.isEmpty {
            configuration.entrypointArguments = entrypointArguments
        } else if entrypoint != "vllm.entrypoints.cli.main" {
            configuration.entrypointArguments = []
        }
        if let execCommand {
            do { configuration.execCommand = try ShellWords.split(execCommand) } catch { throw ValidationError("--exec-command: \(error)") }
        }
        configuration.maxInstances = maxInstances
        configuration.zygoteSpare = !noSpare
        configuration.instanceCgroups = instanceCgroups == "auto"
        if let host = instanceHost ?? ProcessInfo.processInfo.environment["POD_IP"].flatMap({ $0.isEmpty ? nil : $0 }) {
            configuration.adminHost = host
        }
        configuration.eventHistory = eventHistory
        configuration.defaultGracePeriod = gracePeriod.duration
        configuration.readyProbeInterval = readyProbeInterval.duration
        configuration.readyProbeTimeout = readyProbeTimeout.duration

        let node = nodeName ?? ProcessInfo.processInfo.environment["NODE_NAME"] ?? ProcessInfo.processInfo.hostName
        let translator: any GPUTranslator
        if let mockGpus {
            translator = StaticGPUTranslator(uuids: MockGPUs.uuids(node: node, count: mockGpus))
        } else {
            do {
                translator = InventoryGPUTranslator(address: try RPCAddress(parsing: gpuInventory))
            } catch {
                throw ValidationError("--gpu-inventory: \(error)")
            }
        }
        let launcher = try Launcher(configuration: configuration, translator: translator, admin: HTTPInstanceAdmin(sleepTimeout: sleepTimeout.duration, timeout: adminTimeout.duration), logger: logger)
        try await launcher.start()
        do {
            try await serve(launcher, logger: logger)
        } catch {
            await launcher.shutdown()
            throw error
        }
        await launcher.shutdown()
    }

    private func serve(_ launcher: Launcher, logger: Logger) async throws {
        var extraServices: [any Service] = []
        var readyLines: [String] = []
        if let restPort {
            let access = RESTAccess(listenHost: restHost, token: try restTokenFile.flatMap { try TokenSource.load(file: $0) })
            let rest = HTTPServer(address: .tcp(host: restHost, port: restPort), router: launcher.restRouter(access: access), logger: logger)
            readyLines.append(HTTPServer.url(try await rest.bind()))
            extraServices.append(rest)
        }
        try await ServerRunner.run(component: "fma-launcher", services: [launcher.service], options: server, logger: logger,
                                   extraServices: extraServices, extraReadyLines: readyLines,
                                   healthProblem: { [journal = launcher.journalHealth] in journal.problem })
    }

    /// fma's Python code next to the executable: `<repo>/python` for a build tree.
    static func defaultPythonPath() -> [String] {
        if let path = ProcessInfo.processInfo.environment["FMA_PYTHONPATH"] { return [path] }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<4 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("python/fma_zygote").path
            if FileManager.default.fileExists(atPath: candidate) { return [url.appendingPathComponent("python").path] }
            let installed = url.appendingPathComponent("lib/fma/python/fma_zygote").path
            if FileManager.default.fileExists(atPath: installed) { return [url.appendingPathComponent("lib/fma/python").path] }
        }
        return []
    }
}
