import FMAKube
import Logging

/// The life both controllers share: informers and other background tasks run; once every cache
/// has synced (else an error naming the one that did not) and, with leader election, once this
/// replica leads, the work starts; it all runs until the task is cancelled. Losing the lease
/// throws, so the process ends and its Deployment restarts it.
struct ControlLoop: Sendable {
    /// One informer: its name (for the error), its run loop and its sync.
    struct Cache: Sendable {
        let name: String
        let run: @Sendable () async -> Void
        let synced: @Sendable () async -> Bool
        let count: @Sendable () -> Int

        init<Source>(_ name: String, _ informer: Informer<Source>) {
            self.name = name
            run = { await informer.run() }
            synced = { await informer.waitForSync() }
            count = { informer.cache.count }
        }
    }

    let caches: [Cache]
    /// Tasks that run from the start, beside the informers (Event queues, launcher watches).
    let background: [@Sendable () async -> Void]
    let election: LeaderElector.Options?
    let client: KubeClient
    let logger: Logger

    /// Runs until cancelled: `synced` once the caches are, `leading(true/false)` around the
    /// lease, then `work` (which should run until cancelled).
    func run(synced: @escaping @Sendable () -> Void, leading: @escaping @Sendable (Bool) -> Void = { _ in },
             work: @escaping @Sendable () async -> Void) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for cache in caches { group.addTask { await cache.run() } }
            for task in background { group.addTask { await task() } }
            for cache in caches where !(await cache.synced()) {
                guard !Task.isCancelled else { return }
                throw ControllerError("the \(cache.name) cache did not sync")
            }
            logger.info("caches synced", metadata: Logger.Metadata(uniqueKeysWithValues: caches.map { ($0.name, "\($0.count())") }))
            synced()
            if let election {
                let elector = LeaderElector(client: client, options: election, logger: logger)
                guard try await elector.acquire() else { return }
                leading(true)
                group.addTask {
                    defer { leading(false) }
                    try await elector.keepRenewing()
                }
            }
            group.addTask { await work() }
            await Task.sleepUntilCancelled()
        }
    }

    /// `count` workers taking keys from `queue` until it shuts down.
    static func runWorkers<Key: Hashable & Sendable>(_ count: Int, queue: WorkQueue<Key>, logger: Logger,
                                                    _ process: @escaping @Sendable (Key) async -> Void) async {
        logger.info("workers starting", metadata: ["workers": "\(count)"])
        await withDiscardingTaskGroup { group in
            for _ in 0..<max(1, count) {
                group.addTask {
                    while let key = await queue.next() {
                        await process(key)
                        queue.done(key)
                    }
                }
            }
        }
    }
}
