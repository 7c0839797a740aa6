import Foundation

/// Everything the launcher needs to know before it starts.
public struct LauncherConfiguration: Sendable {
    /// How instances start.
    public enum SpawnMode: String, Sendable, CaseIterable {
        /// Forked from the preinitialized Python zygote (warm).
        case fork
        /// A fresh process by posix_spawn (cold): the baseline, and for non-Python servers.
        case exec
    }

    /// Where the journal and the instance logs live.
    public var stateDirectory: String
    public var spawnMode: SpawnMode = .fork
    /// The Python interpreter for the zygote (and for `exec` of a Python entry point).
    public var python: String = "python3"
    /// Directories added to PYTHONPATH for the zygote (fma's own Python code lives there).
    public var pythonPath: [String] = []
    /// Modules the zygote imports before forking.
    public var preload: [String] = LauncherConfiguration.vllmPreload
    /// Whether the zygote keeps a child forked ahead of time for the next create (its spare).
    public var zygoteSpare = true
    /// The module each instance runs as `__main__`.
    public var entrypoint: String = "vllm.entrypoints.cli.main"
    /// Arguments placed before the instance's options (vLLM: `serve`).
    public var entrypointArguments: [String] = ["serve"]
    /// With `exec`: the program to run instead of `python -m ENTRYPOINT`.
    public var execCommand: [String]?
    public var maxInstances: Int = 64
    /// Whether each forked instance gets a cgroup of its own where one can be made
    /// (`InstanceCgroups`), so that stopping it kills every process it started. Off by
    /// default: joining a cgroup adds about 13 ms to an instance's start.
    public var instanceCgroups = false
    /// How many events a watcher can resume from (`since`).
    public var eventHistory: Int = 1000
    public var defaultGracePeriod: Duration = .seconds(10)
    /// The host the instances' admin APIs answer on.
    public var adminHost: String = "127.0.0.1"
    /// How often a ready instance's `/health` is probed (`Instance.ready`); zero turns the
    /// probe off (every instance stays not ready).
    public var readyProbeInterval: Duration = .seconds(5)
    /// How long one probe waits for an answer.
    public var readyProbeTimeout: Duration = .seconds(2)

    /// What vLLM's OpenAI server imports: preloading these is what makes a fork warm.
    /// `vllm.entrypoints.cli.main` imports its subcommands' modules only when `main()` runs, in
    /// every instance: they are here too (`make test-vllm` measured vLLM 0.33.0's
    /// `vllm.entrypoints.cli.preload` at 0.3 s of each instance's start). A module an older vLLM
    /// lacks is reported in the zygote's `failed` and skipped.
    public static let vllmPreload = [
        "vllm.entrypoints.cli.main",
        "vllm.entrypoints.cli.benchmark.main",
        "vllm.entrypoints.cli.collect_env",
        "vllm.entrypoints.cli.download_kernels",
        "vllm.entrypoints.cli.launch",
        "vllm.entrypoints.cli.openai",
        "vllm.entrypoints.cli.preload",
        "vllm.entrypoints.cli.run_batch",
        "vllm.entrypoints.cli.serve",
        "vllm.entrypoints.cli.snapshot",
        "vllm.entrypoints.openai.api_server",
        "vllm.engine.arg_utils",
        "torch",
    ]

    public init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
    }

    var logDirectory: String { stateDirectory + "/logs" }
    var journalPath: String { stateDirectory + "/instances.json" }
    /// Where a supervisor records the exit status of instances it reaped while no launcher ran.
    var exitRecordDirectory: String { stateDirectory + "/exits" }
}
