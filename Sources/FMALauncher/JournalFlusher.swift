import Dispatch
import Foundation
import Synchronization

/// Makes the journal durable against a machine crash, off the path of the calls that change it.
///
/// A save is complete for the launcher's own crash once the new table is renamed over the old
/// (the kernel has it); only a crash of the whole machine could still lose it, and that ends
/// every instance too. So the fsync of the journal and of its directory runs here, on a
/// background queue, soon after the save: saves in a burst share one flush. A flush that fails
/// is reported through `onFailure` (the launcher's Health then says NOT_SERVING).
final class JournalFlusher: Sendable {
    let path: String
    private let scheduled = Mutex(false)
    private let queue = DispatchQueue(label: "fma.launcher.journal-flush", qos: .utility)
    private let onFailure: @Sendable (String) -> Void

    init(path: String, onFailure: @escaping @Sendable (String) -> Void) {
        self.path = path
        self.onFailure = onFailure
    }

    /// Schedules a flush unless one is already waiting to run (it will see this save).
    func request() {
        guard scheduled.withLock({ scheduled in
            defer { scheduled = true }
            return !scheduled
        }) else { return }
        queue.async { [self] in
            scheduled.withLock { $0 = false }
            if let failure = flush() { onFailure(failure) }
        }
    }

    /// Waits for every requested flush (at shutdown).
    func drain() {
        queue.sync {}
    }

    /// fsync of the journal, then of its directory (which holds the rename); the reason on failure.
    private func flush() -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            // Gone meanwhile (the state directory removed): nothing left to make durable.
            return errno == ENOENT ? nil : "open \(path): \(String(cString: strerror(errno)))"
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else { return "fsync \(path): \(String(cString: strerror(errno)))" }
        let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        return nil
    }
}
