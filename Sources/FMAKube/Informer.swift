import FMAKubeModel
public import Logging
import NIOConcurrencyHelpers

/// Keeps a local cache of one kind of object in step with the API server, and tells
/// handlers about every change: list, then watch from the list's resourceVersion.
///
/// - A watch that ends (the server's timeout) or breaks is resumed from the last
///   resourceVersion seen (bookmarks advance it), after a backoff if it failed.
/// - A watch that answers 410 Gone (the version is too old) makes the informer list again and
///   deliver the difference to the handlers: `added` for new objects, `updated` for objects
///   whose resourceVersion changed, `deleted` for objects that vanished. Handlers therefore
///   see every change once: never a duplicate, never a miss (intermediate states between two
///   lists can be skipped, as with any level-triggered source).
/// - `hasSynced` turns true once the first list is in the cache; `waitForSync()` waits for it.
///
/// Handlers run on the informer's task, one event at a time, in order. Keep them quick (put
/// the key on a `WorkQueue`); they may read the cache but must not call `addHandler`.
///
/// `run()` works until its task is cancelled.
public final class Informer<Source: ListerWatcher>: Sendable {
    public typealias Object = Source.Object
    public typealias Handler = @Sendable (InformerEvent<Object>) -> Void

    public struct Options: Sendable {
        /// Items per list page; `nil` lists in one request.
        public var pageSize: Int? = 500
        /// The delay between failed attempts to list or watch.
        public var backoff: ExponentialBackoff = .reconnect
        /// Applied to every object before it is cached and handed to handlers (client-go's
        /// transform): drop what the program never reads, so a large cache stays small.
        public var transform: (@Sendable (Object) -> Object)?

        public init() {}
    }

    private struct SyncState {
        var synced = false
        /// `run()` has returned without syncing: a sync will not come.
        var stopped = false
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]

        enum Waiter {
            case pending
            case waiting(CheckedContinuation<Bool, Never>)
            case cancelled
        }
    }

    /// The objects, as of the last event delivered.
    public let cache: ObjectCache<Object>
    private let source: Source
    private let options: Options
    private let logger: Logger
    private let handlers = NIOLockedValueBox<[Handler]>([])
    /// Held while the cache changes and handlers hear of it, and while a handler is added
    /// (which replays the cache to it): a new handler sees each object exactly once.
    private let deliveryLock = NIOLock()
    private let syncState = NIOLockedValueBox(SyncState())
    private let resourceVersion = NIOLockedValueBox("")

    public init(
        _ source: Source, indexes: [String: ObjectCache<Object>.IndexFunction] = [:],
        options: Options = Options(), logger: Logger = Logger(label: "fma.kube.informer")
    ) {
        self.source = source
        self.options = options
        var logger = logger
        logger[metadataKey: "kind"] = "\(Object.resourceKind)"
        self.logger = logger
        cache = ObjectCache(indexes: indexes)
    }

    /// Adds a handler. Objects already in the cache are delivered to it as `added` first.
    public func addHandler(_ handler: @escaping Handler) {
        deliveryLock.withLock {
            for object in cache.list() {
                handler(.added(object))
            }
            handlers.withLockedValue { $0.append(handler) }
        }
    }

    /// Whether the first list has been stored and delivered.
    public var hasSynced: Bool {
        syncState.withLockedValue { $0.synced }
    }

    /// The resourceVersion the next watch starts from.
    public var lastResourceVersion: String {
        resourceVersion.withLockedValue { $0 }
    }

    /// Waits until the first list is in the cache. Returns `false` if the task was cancelled
    /// first, or if `run()` returned (its task was cancelled) before the informer synced.
    public func waitForSync() async -> Bool {
        let id: UInt64? = syncState.withLockedValue { state in
            if state.synced { return nil }
            let id = state.nextWaiter
            state.nextWaiter += 1
            state.waiters[id] = .pending
            return id
        }
        guard let id else { return true }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resume: Bool? = syncState.withLockedValue { state in
                    if state.synced {
                        state.waiters[id] = nil
                        return true
                    }
                    if case .cancelled = state.waiters[id] {
                        state.waiters[id] = nil
                        return false
                    }
                    if state.stopped {
                        state.waiters[id] = nil
                        return false
                    }
                    state.waiters[id] = .waiting(continuation)
                    return nil
                }
                if let resume { continuation.resume(returning: resume) }
            }
        } onCancel: {
            let continuation: CheckedContinuation<Bool, Never>? = syncState.withLockedValue { state in
                switch state.waiters[id] {
                case .waiting(let continuation):
                    state.waiters[id] = nil
                    return continuation
                case .pending:
                    state.waiters[id] = .cancelled
                    return nil
                default:
                    return nil
                }
            }
            continuation?.resume(returning: false)
        }
    }

    /// Lists and watches until the task is cancelled.
    public func run() async {
        syncState.withLockedValue { $0.stopped = false }
        var attempt = 0
        var needsList = true
        var goneInARow = 0
        while !Task.isCancelled {
            do {
                if needsList {
                    try await relist()
                    needsList = false
                    attempt = 0
                }
                let from = lastResourceVersion
                let started = ContinuousClock.now
                var delivered = 0
                let events = try await source.watch(resourceVersion: from)
                for try await event in events {
                    handle(event)
                    delivered += 1
                    attempt = 0
                    goneInARow = 0
                }
                logger.debug("watch ended; watching again", metadata: ["resource_version": "\(lastResourceVersion)", "events": "\(delivered)"])
                // A watch that ends at once with nothing in it is a failing server, not a timeout.
                if delivered == 0 && ContinuousClock.now - started < .seconds(1) {
                    try await pause(attempt: &attempt)
                }
            } catch {
                if Task.isCancelled { break }
                if let error = error as? KubeError, error.isGone {
                    logger.info("watch resourceVersion too old; listing again", metadata: ["resource_version": "\(lastResourceVersion)"])
                    needsList = true
                    goneInARow += 1
                    // Gone again right after a fresh list: the server is unwell; do not spin.
                    if goneInARow > 1 {
                        do { try await pause(attempt: &attempt) } catch { break }
                    }
                    continue
                }
                logger.warning("list or watch failed; retrying", metadata: [
                    "error": "\(error)", "attempt": "\(attempt)", "resource_version": "\(lastResourceVersion)",
                ])
                do {
                    try await pause(attempt: &attempt)
                } catch {
                    break
                }
            }
        }
        // Wake anyone still waiting for a sync that will not come.
        let waiters = syncState.withLockedValue { state -> [CheckedContinuation<Bool, Never>] in
            // Waiters not yet suspended see `stopped` when they suspend.
            state.stopped = true
            let waiting = state.waiters.values.compactMap { waiter -> CheckedContinuation<Bool, Never>? in
                if case .waiting(let continuation) = waiter { return continuation }
                return nil
            }
            state.waiters = state.waiters.filter { if case .waiting = $0.value { false } else { true } }
            return waiting
        }
        for waiter in waiters { waiter.resume(returning: false) }
    }

    private func pause(attempt: inout Int) async throws {
        let delay = options.backoff.delay(attempt: attempt, random: Double.random(in: 0..<1))
        attempt += 1
        try await Task.sleep(for: delay)
    }

    /// Lists everything, replaces the cache and delivers the difference.
    private func relist() async throws(KubeError) {
        let pageSize = options.pageSize
        let list = try await collectPages { (token) throws(KubeError) in
            try await source.list(limit: pageSize, continue: token)
        }
        replace(with: list.items, resourceVersion: list.resourceVersion)
        logger.debug("listed", metadata: ["count": "\(list.items.count)", "resource_version": "\(list.resourceVersion)"])
        let waiters = syncState.withLockedValue { state -> [CheckedContinuation<Bool, Never>] in
            state.synced = true
            let waiting = state.waiters.values.compactMap { waiter -> CheckedContinuation<Bool, Never>? in
                if case .waiting(let continuation) = waiter { return continuation }
                return nil
            }
            state.waiters = [:]
            return waiting
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Makes the cache hold exactly `objects` and tells the handlers what changed.
    func replace(with objects: [Object], resourceVersion version: String) {
        let objects = options.transform.map { objects.map($0) } ?? objects
        deliveryLock.withLock {
            var events: [InformerEvent<Object>] = []
            var seen = Set<String>()
            cache.store.withLockedValue { store in
                for object in objects {
                    seen.insert(object.key)
                    let old = store.put(object)
                    if let old {
                        if old.metadata.resourceVersion != object.metadata.resourceVersion {
                            events.append(.updated(old: old, new: object))
                        }
                    } else {
                        events.append(.added(object))
                    }
                }
                for key in Array(store.objects.keys) where !seen.contains(key) {
                    if let old = store.remove(key) { events.append(.deleted(old)) }
                }
            }
            resourceVersion.withLockedValue { $0 = version }
            deliver(events)
        }
    }

    /// Applies one watch event to the cache and tells the handlers, skipping repeats (an
    /// event whose object has the cached resourceVersion).
    func handle(_ event: WatchEvent<Object>) {
        let version = event.object.metadata.resourceVersion
        if event.type == .bookmark {
            if !version.isEmpty { resourceVersion.withLockedValue { $0 = version } }
            return
        }
        deliveryLock.withLock {
            let object = options.transform?(event.object) ?? event.object
            var delivery: InformerEvent<Object>?
            cache.store.withLockedValue { store in
                switch event.type {
                case .added, .modified:
                    if let old = store.objects[object.key] {
                        if old.metadata.resourceVersion == version && !version.isEmpty { return }
                        _ = store.put(object)
                        delivery = .updated(old: old, new: object)
                    } else {
                        _ = store.put(object)
                        delivery = .added(object)
                    }
                case .deleted:
                    if store.remove(object.key) != nil { delivery = .deleted(object) }
                case .bookmark, .error:
                    break
                }
            }
            if !version.isEmpty { resourceVersion.withLockedValue { $0 = version } }
            if let delivery { deliver([delivery]) }
        }
    }

    private func deliver(_ events: [InformerEvent<Object>]) {
        guard !events.isEmpty else { return }
        let handlers = handlers.withLockedValue { $0 }
        for event in events {
            for handler in handlers { handler(event) }
        }
    }
}
