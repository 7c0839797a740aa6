import FMAWire
import Foundation

/// How an instance's process ended.
struct ExitRecord: Sendable, Codable, Equatable {
    var exitCode: Int32 = 0
    var signal: Int32 = 0
    /// False when the launcher restarted after the exit and nothing recorded the code.
    var known: Bool = true

    /// Decodes a `waitpid` status.
    init(waitStatus status: Int32) {
        if status & 0x7f == 0 {
            exitCode = (status >> 8) & 0xff
        } else {
            signal = status & 0x7f
        }
    }

    init(exitCode: Int32 = 0, signal: Int32 = 0, known: Bool = true) {
        self.exitCode = exitCode
        self.signal = signal
        self.known = known
    }

    static let unknown = ExitRecord(known: false)

    var proto: Fma_V1_ExitStatus {
        .with {
            $0.exitCode = exitCode
            $0.signal = signal
            $0.known = known
        }
    }

    var summary: String {
        guard known else { return "exited (code unknown: it ended while the launcher was down)" }
        return signal != 0 ? "killed by signal \(signal)" : "exited with code \(exitCode)"
    }
}

/// One instance as the launcher keeps it (and journals it).
struct InstanceRecord: Sendable, Codable, Equatable {
    enum Phase: Sendable, Codable, Equatable {
        /// Spawning; no pid yet.
        case starting
        case running
        /// A delete sent SIGTERM; SIGKILL follows at the grace deadline.
        case stopping
        case stopped(ExitRecord)
    }

    var spec: InstanceSpec
    var phase: Phase
    /// The environment the process got: the spec's plus CUDA_VISIBLE_DEVICES.
    var effectiveEnv: [String: String]
    var pid: Int32 = 0
    /// The process's start time in clock ticks since boot (/proc/PID/stat field 22), which
    /// tells a re-adopted pid from a recycled one.
    var startTicks: UInt64 = 0
    var revision: UInt64 = 0
    var sleeping = false
    var sleepLevel: UInt32 = 0
    var createdUnixMs: Int64
    /// When the launcher last slept or woke the instance (or found it changed); nil when never.
    /// Optional so that a journal from before this field reads.
    var sleepChangedUnixMs: Int64?
    var logPath: String
    var spawnMode: String
    var adopted = false
    /// Whether the server answers `/health`, as the launcher's probe last found. Not journaled:
    /// a restarted launcher probes again.
    var ready = false
    /// What a forked instance imported after the fork, read when it first turned ready
    /// (`PreloadGapReport`). Not journaled.
    var preloadGap: Fma_V1_PreloadGap?

    private enum CodingKeys: String, CodingKey {
        case spec, phase, effectiveEnv, pid, startTicks, revision, sleeping, sleepLevel, createdUnixMs, sleepChangedUnixMs, logPath, spawnMode, adopted
    }

    var isLive: Bool {
        switch phase {
        case .starting, .running, .stopping: return true
        case .stopped: return false
        }
    }

    var proto: Fma_V1_Instance {
        var instance = Fma_V1_Instance()
        instance.id = spec.id
        switch phase {
        case .starting, .running, .stopping:
            instance.status = .running
        case .stopped(let exit):
            instance.status = .stopped
            instance.exit = exit.proto
        }
        instance.revision = revision
        instance.options = spec.options
        instance.optionsString = spec.optionsString
        instance.gpuUuids = spec.gpuUUIDs
        instance.envVars = effectiveEnv
        instance.annotations = spec.annotations
        instance.pid = pid
        instance.port = spec.port ?? 0
        instance.sleepState = sleeping ? .sleeping : .awake
        instance.sleepLevel = sleepLevel
        instance.createdUnixMs = createdUnixMs
        instance.sleepChangedUnixMs = sleepChangedUnixMs ?? 0
        instance.logPath = logPath
        instance.spawnMode = spawnMode
        instance.adopted = adopted
        instance.ready = ready
        if let preloadGap { instance.preloadGap = preloadGap }
        return instance
    }
}
