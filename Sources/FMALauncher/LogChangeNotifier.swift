import Foundation
import Glibc
import NIOConcurrencyHelpers

/// Tells log followers when a log file changed, through inotify: one descriptor and one
/// reading thread for the whole launcher, so a followed line reaches the client within
/// milliseconds of being written instead of at the next poll.
///
/// A follower `subscribe`s to its file, takes the change count, reads what is there, and then
/// waits for the count to move past the one it took (a write between its read and its wait is
/// not lost); it `unsubscribe`s when it ends.
final class LogChangeNotifier: Sendable {
    /// One per launcher process; nil when inotify is not available (followers then poll).
    static let shared = LogChangeNotifier()

    private struct Watch {
        var descriptor: Int32
        var subscribers = 0
        var changes: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private struct State {
        var byPath: [String: Watch] = [:]
        var pathByDescriptor: [Int32: String] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let fd: Int32
    private let state = NIOLockedValueBox(State())

    private init?() {
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        self.fd = fd
        let thread = Thread { [self] in readEvents() }
        thread.name = "fma-log-notifier"
        thread.start()
    }

    /// Starts watching `path`; false when it cannot be watched (then poll).
    func subscribe(_ path: String) -> Bool {
        state.withLockedValue { state in
            if state.byPath[path] != nil {
                state.byPath[path]!.subscribers += 1
                return true
            }
            let descriptor = inotify_add_watch(fd, path, UInt32(IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF))
            guard descriptor >= 0 else { return false }
            state.byPath[path] = Watch(descriptor: descriptor, subscribers: 1)
            state.pathByDescriptor[descriptor] = path
            return true
        }
    }

    func unsubscribe(_ path: String) {
        state.withLockedValue { state in
            guard var watch = state.byPath[path] else { return }
            watch.subscribers -= 1
            guard watch.subscribers <= 0 else {
                state.byPath[path] = watch
                return
            }
            state.byPath[path] = nil
            state.pathByDescriptor[watch.descriptor] = nil
            inotify_rm_watch(fd, watch.descriptor)
            for waiter in watch.waiters.values { waiter.resume() }
        }
    }

    /// How many changes `path` has seen while watched.
    func changes(of path: String) -> UInt64 {
        state.withLockedValue { $0.byPath[path]?.changes ?? 0 }
    }

    /// Returns once `path` has seen more than `seen` changes, or at once when it is not
    /// watched, or when the task is cancelled.
    func waitForChange(of path: String, after seen: UInt64) async {
        let id = state.withLockedValue { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { state -> Bool in
                    guard let watch = state.byPath[path], watch.changes == seen, !Task.isCancelled else { return true }
                    state.byPath[path]!.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLockedValue { $0.byPath[path]?.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    private func readEvents() {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            var descriptors: Set<Int32> = []
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= count {
                let (descriptor, nameLength) = buffer.withUnsafeBytes { raw in
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    return (event.wd, Int(event.len))
                }
                descriptors.insert(descriptor)
                offset += MemoryLayout<inotify_event>.size + nameLength
            }
            let woken = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                var woken: [CheckedContinuation<Void, Never>] = []
                for descriptor in descriptors {
                    guard let path = state.pathByDescriptor[descriptor], var watch = state.byPath[path] else { continue }
                    watch.changes += 1
                    woken += watch.waiters.values
                    watch.waiters = [:]
                    state.byPath[path] = watch
                }
                return woken
            }
            for waiter in woken { waiter.resume() }
        }
    }
}
