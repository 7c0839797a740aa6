import FMAJSON

/// How a container's process ended.
struct ContainerExit: Sendable, Hashable {
    var exitCode: Int32
    var signal: Int32?
    /// `Completed`, `Error`, `StartError`.
    var reason: String
    var message: String?
    var startedAt: String?
    var finishedAt: String

    /// Decodes a `waitpid` status.
    init(waitStatus: Int32, startedAt: String?, finishedAt: String) {
        let termSignal = waitStatus & 0x7f
        if termSignal == 0 {
            exitCode = (waitStatus >> 8) & 0xff
            signal = nil
        } else {
            exitCode = 128 + termSignal
            signal = termSignal
        }
        reason = exitCode == 0 ? "Completed" : "Error"
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    init(exitCode: Int32, reason: String, message: String?, startedAt: String?, finishedAt: String) {
        self.exitCode = exitCode
        self.signal = nil
        self.reason = reason
        self.message = message
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    var json: JSONObject {
        var terminated: JSONObject = ["exitCode": .int(Int64(exitCode))]
        if let signal { terminated["signal"] = .int(Int64(signal)) }
        terminated["reason"] = .string(reason)
        if let message { terminated["message"] = .string(message) }
        if let startedAt { terminated["startedAt"] = .string(startedAt) }
        terminated["finishedAt"] = .string(finishedAt)
        return ["terminated": .object(terminated)]
    }
}

/// A container's lifecycle as the kubelet tracks it: an explicit state and the transitions
/// the kubelet drives, each returning what to do next. No I/O.
struct ContainerLifecycle: Sendable {
    enum State: Sendable, Hashable {
        /// Not started yet (`ContainerCreating`), or waiting to restart (`CrashLoopBackOff`).
        case waiting(reason: String, message: String?)
        case running(startedAt: String)
        case terminated(ContainerExit)
    }

    /// What the kubelet does after an exit.
    enum AfterExit: Sendable, Equatable {
        /// Start it again after the delay.
        case restart(after: Duration)
        /// It stays terminated (restart policy, or the pod is stopping).
        case stay
    }

    private(set) var state: State = .waiting(reason: "ContainerCreating", message: nil)
    private(set) var lastTermination: ContainerExit?
    private(set) var restartCount: Int64 = 0
    private(set) var ready = false
    /// Set once the pod is being deleted: no more restarts.
    private(set) var stopping = false
    /// How many times it was started; distinguishes a run's exit, probe and timer from a later run's.
    private(set) var generation = 0

    var isRunning: Bool { if case .running = state { true } else { false } }
    var isTerminated: Bool { if case .terminated = state { true } else { false } }
    var hasStarted: Bool { generation > 0 }
    var startedAt: String? { if case .running(let at) = state { at } else { nil } }

    /// It runs now (a restart counts when it is not the first start).
    mutating func started(at time: String, ready: Bool) {
        if generation > 0 { restartCount += 1 }
        generation += 1
        state = .running(startedAt: time)
        self.ready = ready
    }

    /// It ran before this simulator started (the cluster restarted) with `restarts` restarts:
    /// its next start counts as one more, as a kubelet counts them after a node reboot.
    mutating func ranBefore(restarts: Int64) {
        restartCount = restarts
        generation = max(generation, 1)
    }

    /// It could not be started; shown as waiting with `reason`.
    mutating func failedToCreate(reason: String, message: String) {
        state = .waiting(reason: reason, message: message)
        ready = false
    }

    mutating func exited(_ exit: ContainerExit, restartPolicy: String, backoff: RestartBackoff) -> AfterExit {
        ready = false
        let restart = !stopping && (restartPolicy == "Always" || (restartPolicy == "OnFailure" && exit.exitCode != 0))
        guard restart else {
            state = .terminated(exit)
            return .stay
        }
        lastTermination = exit
        let delay = backoff.delay(afterRestarts: Int(restartCount))
        state = .waiting(reason: "CrashLoopBackOff", message: "back-off \(delay) restarting failed container")
        return .restart(after: delay)
    }

    /// A probe result changed readiness; false when nothing changed.
    mutating func setReady(_ value: Bool) -> Bool {
        guard isRunning, ready != value else { return false }
        ready = value
        return true
    }

    /// The pod is stopping: no restarts; a container that is not running is done at once.
    mutating func stop(at time: String) {
        stopping = true
        ready = false
        if case .waiting = state {
            state = .terminated(ContainerExit(exitCode: 0, reason: "Completed", message: "never started, or not restarted, before the pod was deleted", startedAt: nil, finishedAt: time))
        }
    }

    /// The container's `state` as a ContainerStatus carries it.
    var stateJSON: JSONObject {
        switch state {
        case .waiting(let reason, let message):
            var waiting: JSONObject = ["reason": .string(reason)]
            if let message { waiting["message"] = .string(message) }
            return ["waiting": .object(waiting)]
        case .running(let startedAt):
            return ["running": ["startedAt": .string(startedAt)]]
        case .terminated(let exit):
            return exit.json
        }
    }
}

/// Restart delays: `initial`, doubling, capped at `maximum`.
struct RestartBackoff: Sendable, Hashable {
    var initial: Duration = .seconds(1)
    var maximum: Duration = .seconds(10)

    func delay(afterRestarts restarts: Int) -> Duration {
        var delay = initial
        for _ in 0..<min(restarts, 32) {
            delay *= 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }
}
