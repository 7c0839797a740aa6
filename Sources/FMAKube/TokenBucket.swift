/// A token bucket: `qps` tokens a second refill it, up to `burst`. Pure (time is passed in),
/// so its arithmetic is tested without a clock; `RateLimiter` puts it behind a lock.
public struct TokenBucket: Sendable, Hashable {
    public let qps: Double
    public let burst: Int
    private var tokens: Double
    private var last: ContinuousClock.Instant?

    /// A full bucket. `qps` ≤ 0 means no limit.
    public init(qps: Double, burst: Int) {
        self.qps = qps
        self.burst = max(1, burst)
        tokens = Double(max(1, burst))
    }

    /// Takes one token at `now` and returns how long its taker must wait before acting: zero
    /// while tokens remain, else the time until its token will have been refilled. Tokens
    /// taken ahead are owed (the count goes negative), so concurrent takers queue in order.
    public mutating func reserve(at now: ContinuousClock.Instant) -> Duration {
        guard qps > 0 else { return .zero }
        if let last {
            let elapsed = last.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            tokens = min(Double(burst), tokens + max(0, seconds) * qps)
        }
        last = now
        tokens -= 1
        if tokens >= 0 { return .zero }
        // A tiny qps would owe more nanoseconds than Int64 holds: a wait is at most a day.
        return .nanoseconds(Int64(min((-tokens / qps * 1e9).rounded(.up), 86_400e9)))
    }
}
