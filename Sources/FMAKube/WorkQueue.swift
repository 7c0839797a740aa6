public import Logging
import NIOConcurrencyHelpers

/// A queue of keys for a controller's workers, with client-go's guarantees:
///
/// - A key is queued at most once (adding a queued key does nothing).
/// - A key is never handed to two workers at once: added while a worker holds it, it is
///   queued again when that worker calls `done`.
/// - `addRateLimited` re-adds a key after a per-key exponential backoff (5 ms doubling to
///   20 s by default); `forget` resets it after a success.
/// - `add(_:after:)` adds a key later (the earliest of several pending delays wins).
///
/// Workers loop on `next()` and call `done(_:)` for every key they get, or use `run(workers:_:)`.
/// After `shutdown()`, `next()` returns `nil` and adds are ignored.
///
/// Delayed keys are moved onto the queue by the workers waiting in `next()` (there is no
/// timer task of its own), so at least one worker must be waiting for delays to fire.
public final class WorkQueue<Key: Hashable & Sendable>: Sendable {
    private struct Delayed: Comparable {
        var deadline: ContinuousClock.Instant
        var sequence: UInt64
        var key: Key

        static func < (a: Delayed, b: Delayed) -> Bool {
            (a.deadline, a.sequence) < (b.deadline, b.sequence)
        }

        static func == (a: Delayed, b: Delayed) -> Bool {
            a.deadline == b.deadline && a.sequence == b.sequence
        }
    }

    private enum Step {
        case key(Key)
        case stop
        case wait(UInt64, ContinuousClock.Instant?)
    }

    private enum Waiter {
        case pending
        case waiting(CheckedContinuation<Void, Never>)
        case signalled
    }

    private struct State {
        var queue: [Key] = []
        var head = 0
        var dirty = Set<Key>()
        var processing = Set<Key>()
        var failures: [Key: Int] = [:]
        /// A min-heap of delayed adds; entries superseded by an earlier deadline are stale.
        var delayedHeap: [Delayed] = []
        var delayedDeadlines: [Key: ContinuousClock.Instant] = [:]
        var sequence: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
        var shuttingDown = false
        /// A worker has asked for a key (`next()`).
        var served = false

        var queuedCount: Int { queue.count - head }

        /// Queues `key` unless it is queued already; returns whether waiters should wake.
        mutating func insert(_ key: Key) -> Bool {
            guard !shuttingDown, !dirty.contains(key) else { return false }
            dirty.insert(key)
            if processing.contains(key) { return false }
            queue.append(key)
            return true
        }

        mutating func pop() -> Key? {
            guard head < queue.count else { return nil }
            let key = queue[head]
            head += 1
            if head > 64 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            dirty.remove(key)
            processing.insert(key)
            return key
        }

        /// Moves every delayed key whose time has come onto the queue.
        mutating func promoteDue(now: ContinuousClock.Instant) {
            while let first = delayedHeap.first, first.deadline <= now {
                popHeap()
                if delayedDeadlines[first.key] == first.deadline {
                    delayedDeadlines[first.key] = nil
                    _ = insert(first.key)
                }
            }
        }

        var nextDeadline: ContinuousClock.Instant? { delayedHeap.first?.deadline }

        mutating func pushHeap(_ item: Delayed) {
            delayedHeap.append(item)
            var child = delayedHeap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard delayedHeap[child] < delayedHeap[parent] else { break }
                delayedHeap.swapAt(child, parent)
                child = parent
            }
        }

        mutating func popHeap() {
            delayedHeap.swapAt(0, delayedHeap.count - 1)
            delayedHeap.removeLast()
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < delayedHeap.count && delayedHeap[left] < delayedHeap[smallest] { smallest = left }
                if right < delayedHeap.count && delayedHeap[right] < delayedHeap[smallest] { smallest = right }
                if smallest == parent { return }
                delayedHeap.swapAt(parent, smallest)
                parent = smallest
            }
        }

        /// Every waiter's continuation, to resume outside the lock; pending waiters are marked.
        mutating func takeWaiters() -> [CheckedContinuation<Void, Never>] {
            var continuations: [CheckedContinuation<Void, Never>] = []
            for (id, waiter) in waiters {
                switch waiter {
                case .waiting(let continuation):
                    continuations.append(continuation)
                    waiters[id] = nil
                case .pending:
                    waiters[id] = .signalled
                case .signalled:
                    break
                }
            }
            return continuations
        }
    }

    private let state = NIOLockedValueBox(State())
    public let backoff: ExponentialBackoff
    private let logger: Logger

    public init(backoff: ExponentialBackoff = .workQueue, logger: Logger = Logger(label: "fma.kube.workqueue")) {
        self.backoff = backoff
        self.logger = logger
    }

    /// Queues `key` (nothing if it is queued already).
    public func add(_ key: Key) {
        let wake = state.withLockedValue { state in
            state.insert(key) ? state.takeWaiters() : []
        }
        for continuation in wake { continuation.resume() }
    }

    /// Queues `key` once `delay` has passed (at once for a delay ≤ 0). A pending delayed add of
    /// the same key keeps whichever time is earlier.
    public func add(_ key: Key, after delay: Duration) {
        guard delay > .zero else { return add(key) }
        let deadline = ContinuousClock.now + delay
        let wake = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            guard !state.shuttingDown else { return [] }
            if let existing = state.delayedDeadlines[key], existing <= deadline { return [] }
            state.delayedDeadlines[key] = deadline
            state.sequence += 1
            state.pushHeap(Delayed(deadline: deadline, sequence: state.sequence, key: key))
            // Waiting workers recompute how long to sleep.
            return state.takeWaiters()
        }
        for continuation in wake { continuation.resume() }
    }

    /// Queues `key` after its backoff, which doubles with each call until `forget(key)`.
    public func addRateLimited(_ key: Key) {
        let failures = state.withLockedValue { state in
            let failures = state.failures[key, default: 0]
            state.failures[key] = failures + 1
            return failures
        }
        add(key, after: backoff.delay(attempt: failures))
    }

    /// Resets `key`'s backoff (after it was handled successfully).
    public func forget(_ key: Key) {
        state.withLockedValue { _ = $0.failures.removeValue(forKey: key) }
    }

    /// How many times `key` was rate-limited since it was last forgotten.
    public func requeues(_ key: Key) -> Int {
        state.withLockedValue { $0.failures[key] ?? 0 }
    }

    /// Keys queued now (not counting delayed adds or keys being processed).
    public var count: Int {
        state.withLockedValue { $0.queuedCount }
    }

    /// True once a worker has asked for work and no key is queued or being processed (keys
    /// added for a later instant do not count until it comes).
    public var isIdle: Bool {
        state.withLockedValue { $0.served && $0.queuedCount == 0 && $0.processing.isEmpty }
    }

    public var isShutDown: Bool {
        state.withLockedValue { $0.shuttingDown }
    }

    /// The next key to work on, once one is queued; `nil` after shutdown or when the task is
    /// cancelled. Every key returned must be handed back with `done(_:)`.
    public func next() async -> Key? {
        while true {
            if Task.isCancelled { return nil }
            let step: Step = state.withLockedValue { state in
                if state.shuttingDown { return .stop }
                state.served = true
                state.promoteDue(now: .now)
                if let key = state.pop() { return .key(key) }
                let id = state.nextWaiter
                state.nextWaiter += 1
                state.waiters[id] = .pending
                return .wait(id, state.nextDeadline)
            }
            switch step {
            case .key(let key):
                return key
            case .stop:
                return nil
            case .wait(let id, let deadline):
                if let deadline {
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask { await self.wait(id) }
                        group.addTask { try? await Task.sleep(until: deadline) }
                        await group.next()
                        group.cancelAll()
                    }
                } else {
                    await wait(id)
                }
            }
        }
    }

    /// Waits until waiter `id` is signalled or the task is cancelled.
    private func wait(_ id: UInt64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { state -> Bool in
                    switch state.waiters[id] {
                    case .pending:
                        state.waiters[id] = .waiting(continuation)
                        return false
                    default:
                        state.waiters[id] = nil
                        return true
                    }
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                switch state.waiters[id] {
                case .waiting(let continuation):
                    state.waiters[id] = nil
                    return continuation
                case .pending:
                    state.waiters[id] = .signalled
                    return nil
                default:
                    return nil
                }
            }
            continuation?.resume()
        }
    }

    /// Ends work on `key`; if it was added meanwhile, it is queued again now.
    public func done(_ key: Key) {
        let wake = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.processing.remove(key)
            guard state.dirty.contains(key), !state.shuttingDown else { return [] }
            state.queue.append(key)
            return state.takeWaiters()
        }
        for continuation in wake { continuation.resume() }
    }

    /// Stops the queue: waiting and later `next()` calls return `nil`, adds are ignored.
    public func shutdown() {
        let wake = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.shuttingDown = true
            return state.takeWaiters()
        }
        for continuation in wake { continuation.resume() }
    }

    /// Runs `workers` workers until the queue shuts down or the task is cancelled. Each key goes
    /// to `handler`; a success forgets the key's backoff, a throw re-adds it rate-limited.
    public func run(workers: Int, _ handler: @escaping @Sendable (Key) async throws -> Void) async {
        await withDiscardingTaskGroup { group in
            for _ in 0..<max(1, workers) {
                group.addTask {
                    while let key = await self.next() {
                        do {
                            try await handler(key)
                            self.forget(key)
                        } catch {
                            self.logger.warning("work item failed; retrying after backoff", metadata: [
                                "key": "\(key)", "error": "\(error)", "requeues": "\(self.requeues(key))",
                            ])
                            self.addRateLimited(key)
                        }
                        self.done(key)
                    }
                }
            }
        }
    }
}
