import NIOConcurrencyHelpers

/// What can end a connection's work early: the channel closing (the client left, or the server
/// closed it) and graceful shutdown. Both are latches: once fired they stay fired.
final class ConnectionEvents: Sendable {
    enum Event: Sendable, Hashable {
        case closed
        case shutdown
    }

    private struct Waiter {
        var events: Set<Event>
        var continuation: CheckedContinuation<Event?, Never>
    }

    private struct State {
        var fired: [Event] = []
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Fires `event`, waking every task that waits for it.
    func fire(_ event: Event) {
        let woken: [CheckedContinuation<Event?, Never>] = state.withLockedValue { state in
            guard !state.fired.contains(event) else { return [] }
            state.fired.append(event)
            let matching = state.waiters.filter { $0.value.events.contains(event) }
            for id in matching.keys { state.waiters.removeValue(forKey: id) }
            return matching.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume(returning: event) }
    }

    /// Waits until one of `events` has fired and returns it; nil if the task is cancelled first.
    func wait(for events: Set<Event>) async -> Event? {
        let id = state.withLockedValue { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Event?, Never>) in
                let already: Event?? = state.withLockedValue { state in
                    if let fired = state.fired.first(where: events.contains) { return .some(fired) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = Waiter(events: events, continuation: continuation)
                    return .none
                }
                if let already { continuation.resume(returning: already) }
            }
        } onCancel: {
            let waiter = state.withLockedValue { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(returning: nil)
        }
    }

    /// Runs `operation` to its end, unless one of `events` fires first: then the operation is
    /// cancelled, awaited, and the event returned (its result or error dropped).
    func run<T: Sendable>(until events: Set<Event>, _ operation: @escaping @Sendable () async throws -> T) async throws -> (T?, Event?) {
        try await withThrowingTaskGroup(of: Outcome<T>.self) { group in
            group.addTask { .finished(try await operation()) }
            group.addTask {
                if let event = await self.wait(for: events) { return .stopped(event) }
                return .waiterCancelled
            }
            defer { group.cancelAll() }
            while let outcome = try await group.next() {
                switch outcome {
                case .finished(let value):
                    return (value, nil)
                case .stopped(let event):
                    group.cancelAll()
                    while (try? await group.next()) != nil {}
                    return (nil, event)
                case .waiterCancelled:
                    continue
                }
            }
            throw CancellationError()
        }
    }

    private enum Outcome<T: Sendable>: Sendable {
        case finished(T)
        case stopped(Event)
        case waiterCancelled
    }
}
