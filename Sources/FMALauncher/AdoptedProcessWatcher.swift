import CFMAProcess
import Foundation

/// Sees the exit of a process that is not the launcher's child (an instance adopted after a
/// launcher restart): a pidfd becomes readable when the process exits. One thread per adopted
/// instance, blocked in poll — adoption is rare and this needs no polling interval.
enum AdoptedProcessWatcher {
    /// Calls `onExit` on a background thread when `pid` exits. Returns false when the process
    /// is already gone (or pidfds are unavailable).
    static func watch(pid: Int32, onExit: @escaping @Sendable () -> Void) -> Bool {
        let fd = fma_pidfd_open(pid)
        guard fd >= 0 else { return false }
        let thread = Thread {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            while poll(&descriptor, 1, -1) < 0, errno == EINTR {}
            close(fd)
            onExit()
        }
        thread.name = "fma-adopted-\(pid)"
        thread.start()
        return true
    }
}
