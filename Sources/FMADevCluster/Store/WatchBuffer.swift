import Synchronization

/// The events of one watch that its consumer has not taken yet. The store appends under its
/// own lock (never blocking); the consumer takes everything pending at once, so a writer can
/// send a burst of changes in one write instead of one per event.
final class WatchBuffer: Sendable {
    private struct State {
        var events: [StoreEvent] = []
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    private let limit: Int

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Adds an event; `false` (and the buffer ends) when the consumer is `limit` events behind
    /// or the buffer has ended.
    func append(_ event: StoreEvent) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            if state.finished { return (false, nil) }
            if state.events.count >= limit {
                state.finished = true
            } else {
                state.events.append(event)
            }
            defer { state.waiter = nil }
            return (!state.finished, state.waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// Ends the buffer: the consumer gets what is pending, then the end.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    var isFinished: Bool { state.withLock { $0.finished } }

    /// Every pending event, waiting for one if there is none; `nil` once the buffer has ended
    /// and is empty, or when the calling task is cancelled.
    func next() async -> [StoreEvent]? {
        while true {
            let batch = state.withLock { state -> [StoreEvent]? in
                if !state.events.isEmpty {
                    defer { state.events = [] }
                    return state.events
                }
                return state.finished ? [] : nil
            }
            if let batch { return batch.isEmpty ? nil : batch }
            if Task.isCancelled { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.events.isEmpty || state.finished { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                finish()
            }
        }
    }
}
