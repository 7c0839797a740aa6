/// Delays that double from `initial` up to `maximum`: a pure sequence (attempt → duration),
/// so the work queue's and the informer's retry timing is tested without waiting.
public struct ExponentialBackoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    /// Up to this fraction of the delay is added at random (0 for none), so many clients
    /// retrying after one outage do not retry in step.
    public var jitter: Double

    public init(initial: Duration, maximum: Duration, multiplier: Double = 2, jitter: Double = 0) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The work queue's per-key backoff: 5 ms, 10 ms, 20 ms, ... capped at 20 s (client-go's).
    public static let workQueue = ExponentialBackoff(initial: .milliseconds(5), maximum: .seconds(20))

    /// The informer's reconnect backoff: 100 ms doubling to 30 s, with 20 % jitter.
    public static let reconnect = ExponentialBackoff(initial: .milliseconds(100), maximum: .seconds(30), jitter: 0.2)

    /// The delay before retry number `attempt` (0 for the first retry). `random` in 0..<1
    /// scales the jitter.
    public func delay(attempt: Int, random: Double = 0) -> Duration {
        let initialSeconds = Self.seconds(initial)
        let maximumSeconds = Self.seconds(maximum)
        // Stop multiplying once past the cap: no overflow however many attempts.
        var seconds = initialSeconds
        var n = 0
        while n < attempt && seconds < maximumSeconds {
            seconds *= multiplier
            n += 1
        }
        seconds = min(seconds, maximumSeconds)
        seconds += seconds * jitter * min(max(random, 0), 1)
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
