import Foundation
import Logging

/// Collects the exit status of every child of the launcher the moment it exits: a thread
/// blocked in `waitpid(-1)`, so exits are seen at once, without polling.
///
/// The launcher's children are its zygote, instances started with `--spawn exec`, and — since
/// the launcher is a child subreaper — instances orphaned when their zygote died.
final class ProcessReaper: @unchecked Sendable {
    private let onExit: @Sendable (Int32, Int32) -> Void
    private let condition = NSCondition()
    private var spawned = false
    private var started = false

    /// `onExit(pid, waitStatus)` runs on the reaper's thread.
    init(onExit: @escaping @Sendable (Int32, Int32) -> Void) {
        self.onExit = onExit
    }

    func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !started else { return }
        started = true
        let thread = Thread { [self] in loop() }
        thread.name = "fma-reaper"
        thread.start()
    }

    /// Tells the reaper a child exists now (it sleeps while there is none).
    func childSpawned() {
        condition.lock()
        spawned = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid > 0 {
                onExit(pid, status)
                continue
            }
            if errno == EINTR { continue }
            // ECHILD: no child at all; sleep until one is spawned.
            condition.lock()
            while !spawned { condition.wait() }
            spawned = false
            condition.unlock()
        }
    }
}
