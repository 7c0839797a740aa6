/// When the launcher probes an instance's `/health` next, and which results turn its
/// readiness: a starting server is probed at once, then every 10 ms doubling to 250 ms; a
/// ready one every `readyInterval`; a ready one that fails is probed again soon and turns
/// not ready at the third failure in a row.
struct ReadinessSchedule: Sendable {
    enum Turn: Equatable, Sendable {
        case none
        case ready
        case notReady
    }

    static let firstDelay: Duration = .milliseconds(10)
    static let startingCap: Duration = .milliseconds(250)
    static let failuresToNotReady = 3

    let readyInterval: Duration
    /// How long to wait before the next probe.
    private(set) var delay: Duration = ReadinessSchedule.firstDelay
    private var failures = 0

    init(readyInterval: Duration) {
        self.readyInterval = readyInterval
    }

    /// Takes one probe's result, given whether the instance is ready now.
    mutating func observe(healthy: Bool, ready: Bool) -> Turn {
        if healthy {
            failures = 0
            delay = readyInterval
            return ready ? .none : .ready
        }
        guard ready else {
            delay = min(delay * 2, Self.startingCap)
            return .none
        }
        failures += 1
        guard failures >= Self.failuresToNotReady else {
            delay = min(readyInterval, Self.startingCap)
            return .none
        }
        failures = 0
        delay = Self.firstDelay
        return .notReady
    }
}
