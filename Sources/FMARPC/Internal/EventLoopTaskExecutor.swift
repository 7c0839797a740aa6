import NIOCore

/// Runs tasks on a NIO event loop.
///
/// A call's handler task prefers its connection's event loop: a handler that does not suspend
/// runs start to finish on the loop that read its request and writes its response, with no
/// hop to the global pool and back (the hop costs more than a small handler does). Handlers
/// that await an actor or sleep still hop as usual, and come back here afterwards.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
