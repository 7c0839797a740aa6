import FMAKube
import FMATestSupport

import Testing

@Suite("work queue")
struct WorkQueueTests {
    @Test func dedupsQueuedKeys() async {
        let queue = WorkQueue<String>()
        queue.add("a")
        queue.add("b")
        queue.add("a")
        #expect(queue.count == 2)
        #expect(await queue.next() == "a")
        #expect(await queue.next() == "b")
        queue.done("a")
        queue.done("b")
        #expect(queue.count == 0)
    }

    @Test func keyAddedWhileProcessingWaitsForDone() async {
        let queue = WorkQueue<String>()
        queue.add("a")
        let key = await queue.next()
        #expect(key == "a")
        // Re-added while a worker holds it: not handed out again until done.
        queue.add("a")
        queue.add("a")
        #expect(queue.count == 0)
        queue.add("b")
        #expect(await queue.next() == "b")
        queue.done("b")
        queue.done("a")
        #expect(queue.count == 1)
        #expect(await queue.next() == "a")
        queue.done("a")
        #expect(queue.count == 0)
    }

    @Test func neverTwoWorkersOnOneKey() async throws {
        let queue = WorkQueue<Int>()
        let active = Locked<Set<Int>>([])
        let overlaps = Locked(0)
        let handled = Locked(0)
        let total = 400
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await queue.run(workers: 8) { key in
                    let fresh = active.withLock { $0.insert(key).inserted }
                    if !fresh { overlaps.withLock { $0 += 1 } }
                    await Task.yield()
                    active.withLock { _ = $0.remove(key) }
                    handled.withLock { $0 += 1 }
                }
            }
            // Five keys added over and over while workers run them.
            for i in 0..<total {
                queue.add(i % 5)
                if i % 3 == 0 { await Task.yield() }
            }
            try await waitUntil(timeout: .seconds(10), "the queue to drain") {
                queue.count == 0 && active.withLock { $0.isEmpty }
            }
            queue.shutdown()
            try await group.waitForAll()
        }
        #expect(overlaps.withLock { $0 } == 0)
        #expect(handled.withLock { $0 } >= 5)
    }

    @Test func backoffGrowsPerKeyAndIsCapped() {
        let backoff = ExponentialBackoff.workQueue
        #expect(backoff.delay(attempt: 0) == .milliseconds(5))
        #expect(backoff.delay(attempt: 1) == .milliseconds(10))
        #expect(backoff.delay(attempt: 2) == .milliseconds(20))
        #expect(backoff.delay(attempt: 12) == .milliseconds(20_000))
        #expect(backoff.delay(attempt: 1_000_000) == .seconds(20))
        let jittered = ExponentialBackoff(initial: .seconds(1), maximum: .seconds(10), jitter: 0.5)
        #expect(jittered.delay(attempt: 0, random: 0.5) == .milliseconds(1250))

        let queue = WorkQueue<String>()
        queue.addRateLimited("a")
        queue.addRateLimited("a")
        queue.addRateLimited("b")
        #expect(queue.requeues("a") == 2)
        #expect(queue.requeues("b") == 1)
        queue.forget("a")
        #expect(queue.requeues("a") == 0)
        #expect(queue.requeues("b") == 1)
    }

    @Test func delayedAddArrivesNoEarlier() async {
        let queue = WorkQueue<String>()
        let start = ContinuousClock.now
        queue.add("late", after: .milliseconds(40))
        queue.add("late", after: .seconds(30)) // a later delay does not postpone the earlier one
        #expect(queue.count == 0)
        queue.add("now")
        #expect(await queue.next() == "now")
        queue.done("now")
        #expect(await queue.next() == "late")
        #expect(ContinuousClock.now - start >= .milliseconds(40))
        queue.done("late")
        #expect(queue.count == 0)
    }

    @Test func rateLimitedRetryGoesThroughTheBackoff() async {
        let queue = WorkQueue<String>(backoff: ExponentialBackoff(initial: .milliseconds(20), maximum: .seconds(1)))
        let start = ContinuousClock.now
        queue.addRateLimited("k")
        #expect(await queue.next() == "k")
        #expect(ContinuousClock.now - start >= .milliseconds(20))
        queue.done("k")
    }

    @Test func shutdownWakesWaitersAndCancellationEndsNext() async {
        let queue = WorkQueue<String>()
        await withTaskGroup(of: String?.self) { group in
            group.addTask { await queue.next() }
            group.addTask { await queue.next() }
            await Task.yield()
            queue.shutdown()
            for await key in group { #expect(key == nil) }
        }
        queue.add("x")
        #expect(queue.count == 0)
        #expect(await queue.next() == nil)

        let other = WorkQueue<String>()
        let task = Task { await other.next() }
        task.cancel()
        #expect(await task.value == nil)
    }

    @Test func failedWorkIsRetriedThenForgotten() async throws {
        let queue = WorkQueue<String>(backoff: ExponentialBackoff(initial: .milliseconds(1), maximum: .milliseconds(4)))
        let attempts = Locked(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await queue.run(workers: 2) { _ in
                    let n = attempts.withLock { $0 += 1; return $0 }
                    if n < 3 { throw TestSupportError("not yet") }
                }
            }
            queue.add("k")
            try await waitUntil(timeout: .seconds(60), "three attempts") { attempts.withLock { $0 } >= 3 }
            try await waitUntil(timeout: .seconds(60), "the backoff to be forgotten") { queue.requeues("k") == 0 }
            queue.shutdown()
            try await group.waitForAll()
        }
        #expect(attempts.withLock { $0 } == 3)
    }
}

@Suite("rate limiter")
struct RateLimiterTests {
    @Test func tokenBucketAllowsBurstThenPaces() {
        var bucket = TokenBucket(qps: 10, burst: 3)
        let t0 = ContinuousClock.now
        #expect(bucket.reserve(at: t0) == .zero)
        #expect(bucket.reserve(at: t0) == .zero)
        #expect(bucket.reserve(at: t0) == .zero)
        // Out of tokens: each next taker waits one more tenth of a second.
        #expect(bucket.reserve(at: t0) == .milliseconds(100))
        #expect(bucket.reserve(at: t0) == .milliseconds(200))
        // A second later the debt (2 tokens) is repaid and 3 more... capped at the burst.
        let t1 = t0 + .seconds(1)
        #expect(bucket.reserve(at: t1) == .zero)
        let t2 = t1 + .seconds(100)
        for _ in 0..<3 { #expect(bucket.reserve(at: t2) == .zero) }
        #expect(bucket.reserve(at: t2) == .milliseconds(100))
    }

    @Test func aTinyRateWaitsAtMostADayInsteadOfOverflowing() {
        var bucket = TokenBucket(qps: 1e-300, burst: 1)
        let now = ContinuousClock.now
        #expect(bucket.reserve(at: now) == .zero)
        #expect(bucket.reserve(at: now) == .seconds(86_400))
    }

    @Test func unlimitedWhenQPSIsZero() {
        var bucket = TokenBucket(qps: 0, burst: 1)
        let now = ContinuousClock.now
        for _ in 0..<100 { #expect(bucket.reserve(at: now) == .zero) }
    }

    @Test func limiterWaitsForItsToken() async throws {
        let limiter = RateLimiter(qps: 50, burst: 1)
        let start = ContinuousClock.now
        try await limiter.acquire()
        try await limiter.acquire()
        try await limiter.acquire()
        // Two tokens beyond the burst at 50/s: at least 40 ms.
        #expect(ContinuousClock.now - start >= .milliseconds(39))
    }
}
