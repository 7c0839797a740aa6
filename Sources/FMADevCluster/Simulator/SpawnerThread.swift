import Foundation

/// The one thread that forks every container's process, alive as long as fma-devcluster:
/// the kernel's parent-death signal (PR_SET_PDEATHSIG) fires when the *thread* that forked a
/// child exits, and the threads that run Swift tasks come and go. Forked here, a container's
/// process is killed when fma-devcluster dies, however it dies.
final class SpawnerThread: @unchecked Sendable {
    static let shared = SpawnerThread()

    private let condition = NSCondition()
    private var jobs: [() -> Void] = []

    private init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "fma-spawner"
        thread.start()
    }

    /// Runs `body` on the spawner thread and answers its result (blocking the caller meanwhile).
    func run<T>(_ body: @escaping () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: T?
        condition.lock()
        jobs.append {
            result = body()
            done.signal()
        }
        condition.signal()
        condition.unlock()
        done.wait()
        return result!
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let next = jobs
            jobs = []
            condition.unlock()
            for job in next { job() }
        }
    }
}
