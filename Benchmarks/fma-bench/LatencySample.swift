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
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(nanoseconds.count) / seconds : 0
    }
}

/// Runs `connections` loops of back-to-back round trips for `duration`, after a warm-up.
func measure(connections: Int, duration: Duration, warmup: Duration,
             makeCall: @escaping @Sendable (Int) async throws -> @Sendable () async throws -> Void) async throws -> LatencySample {
    var calls: [@Sendable () async throws -> Void] = []
    for index in 0..<connections { calls.append(try await makeCall(index)) }
    // Warm-up: connections opened, code paths hot.
    let warmEnd = ContinuousClock.now + warmup
    try await withThrowingTaskGroup(of: Void.self) { group in
        for call in calls {
            group.addTask { while ContinuousClock.now < warmEnd { try await call() } }
        }
        try await group.waitForAll()
    }
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
                    let took = ContinuousClock.now - before
                    latencies.append(UInt64(took.components.seconds) * 1_000_000_000 + UInt64(took.components.attoseconds / 1_000_000_000))
                }
                return latencies
            }
        }
        for try await latencies in group { sample.merge(latencies) }
    }
    sample.elapsed = ContinuousClock.now - start
    return sample
}
