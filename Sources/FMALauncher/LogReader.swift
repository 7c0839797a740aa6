import FMARPC
import FMAWire
import Foundation

/// Reads instance logs: byte ranges, and following new bytes as they are written.
struct LogReader: Sendable {
    /// At most this much per GetLog call without an explicit end (FMA's limit too).
    static let defaultMaxBytes: UInt64 = 1 << 20
    /// How often a follower looks for new bytes when nothing tells it of a change (inotify
    /// wakes it at once; this also bounds how late it notices the instance was deleted).
    let followInterval: Duration
    private let notifier: LogChangeNotifier?

    init(followInterval: Duration = .seconds(1), notifier: LogChangeNotifier? = .shared) {
        self.followInterval = followInterval
        self.notifier = notifier
    }

    /// Bytes [start, end] (end inclusive, clamped to the file), or up to 1 MiB from start.
    /// A start at or beyond the size is an empty chunk with `total_size`, so a poller asks
    /// again from the same offset; an end before the start is INVALID_ARGUMENT.
    func read(path: String, id: String, start: UInt64, end: UInt64?) throws(RPCError) -> Fma_V1_GetLogResponse {
        if let end, end < start {
            throw .invalidArgument(field: "end", "end \(end) is before start \(start)")
        }
        let size = Self.size(of: path)
        var response = Fma_V1_GetLogResponse()
        response.start = start
        response.totalSize = size
        guard start < size else { return response }
        let (openEnd, overflow) = start.addingReportingOverflow(Self.defaultMaxBytes - 1)
        let last = min(end ?? (overflow ? .max : openEnd), size - 1)
        response.data = try Self.bytes(path: path, from: start, count: Int(last - start + 1))
        return response
    }

    /// Sends the log from `start`, then new bytes as they arrive, while `alive()` holds.
    func follow(path: String, from start: UInt64, while alive: @Sendable () async -> Bool,
                send: (UInt64, Data) async throws -> Void) async throws {
        let notified = notifier?.subscribe(path) == true
        defer { if notified { notifier?.unsubscribe(path) } }
        // Without inotify, the old short poll.
        let interval = notified ? followInterval : min(followInterval, .milliseconds(50))
        var offset = start
        while true {
            let seen = notified ? notifier?.changes(of: path) ?? 0 : 0
            let size = Self.size(of: path)
            if size > offset {
                let count = Int(min(size - offset, Self.defaultMaxBytes))
                let data = try Self.bytes(path: path, from: offset, count: count)
                try await send(offset, data)
                offset += UInt64(data.count)
                continue
            }
            guard await alive() else { return }
            if notified, let notifier {
                try await Self.waitForChange(notifier, path: path, after: seen, atMost: interval)
            } else {
                try await Task.sleep(for: interval)
            }
        }
    }

    /// Waits until the file changes or `limit` passes, whichever comes first.
    private static func waitForChange(_ notifier: LogChangeNotifier, path: String, after seen: UInt64, atMost limit: Duration) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await notifier.waitForChange(of: path, after: seen) }
            group.addTask { try await Task.sleep(for: limit) }
            try await group.next()
            group.cancelAll()
        }
        try Task.checkCancellation()
    }

    static func size(of path: String) -> UInt64 {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_size) : 0
    }

    private static func bytes(path: String, from offset: UInt64, count: Int) throws(RPCError) -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw RPCError(.notFound, "the log file \(path) is gone")
        }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: offset)
            return try handle.read(upToCount: count) ?? Data()
        } catch {
            throw RPCError(.internal, "cannot read \(path): \(error)", cause: error)
        }
    }
}
