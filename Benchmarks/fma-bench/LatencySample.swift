/// Round-trip latencies of one measurement, and what they add up to.
struct LatencySample {
    var nanoseconds: [UInt64] = []
    var elapsed: Duration = .zero

    mutating func merge(_ other: [UInt64]) { nanoseconds += other }

    func percentile(_ p: Double) -> Double {
        guard !nanoseconds.isEmpty else { return 0 }
        let sorted = nanoseconds.sorted()
        let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))
        return Double(sorted[index]) / 1000
    }

    var callsPerSecond: Double {
        let seconds = elapsed.seconds
        return seconds > 0 ? Double(nanoseconds.count) / seconds : 0
    }
}

/// Opened connections, each a function making one round trip.
typealias RoundTrips = [@Sendable () async throws -> Void]

/// Runs every round trip loop back to back until `duration` has passed.
func measure(_ calls: RoundTrips, for duration: Duration) async throws -> LatencySample {
    let start = ContinuousClock.now
    let end = start + duration
    var sample = LatencySample()
    try await withThrowingTaskGroup(of: [UInt64].self) { group in
        for call in calls {
            group.addTask {
                var latencies: [UInt64] = []
                latencies.reserveCapacity(100_000)
                while true {
                    let before = ContinuousClock.now
                    if before >= end { break }
                    try await call()
                    latencies.append((ContinuousClock.now - before).nanoseconds)
                }
                return latencies
            }
        }
        for try await latencies in group { sample.merge(latencies) }
    }
    sample.elapsed = ContinuousClock.now - start
    return sample
}

/// Measures two systems in alternating rounds, so that drift and noise on this shared machine
/// fall on both alike; returns each one's samples merged over the rounds.
func compare(_ baseline: RoundTrips, _ candidate: RoundTrips, rounds: Int, duration: Duration, warmup: Duration) async throws -> (LatencySample, LatencySample) {
    _ = try await measure(baseline, for: warmup)
    _ = try await measure(candidate, for: warmup)
    var base = LatencySample()
    var cand = LatencySample()
    let slice = duration / rounds
    for _ in 0..<rounds {
        let b = try await measure(baseline, for: slice)
        let c = try await measure(candidate, for: slice)
        base.merge(b.nanoseconds)
        base.elapsed += b.elapsed
        cand.merge(c.nanoseconds)
        cand.elapsed += c.elapsed
    }
    return (base, cand)
}

/// Durations as the samples count them.
extension Duration {
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
