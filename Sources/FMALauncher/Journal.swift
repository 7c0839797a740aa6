import FMARPC
import Foundation

/// The instance table on disk, so a restarted launcher can take its instances over.
///
/// Written after every change as JSON to a temporary file, then renamed over the journal: a
/// crash of the launcher leaves the old or the new table, never a torn one. The fsyncs that
/// make it survive a crash of the machine run in the background right after (`JournalFlusher`);
/// after such a crash every instance is gone anyway, and a journal the crash left unreadable is
/// logged and the launcher starts empty.
struct Journal: Sendable {
    struct Contents: Codable, Sendable {
        var revision: UInt64
        var instances: [InstanceRecord]
    }

    let path: String
    let flusher: JournalFlusher?

    init(path: String, flusher: JournalFlusher? = nil) {
        self.path = path
        self.flusher = flusher
    }

    func load() throws -> Contents? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(Contents.self, from: data)
    }

    func save(_ contents: Contents) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(contents)
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.error("open \(temporary)") }
        defer { close(fd) }
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw Self.error("write \(temporary)")
                }
                offset += written
            }
        }
        guard rename(temporary, path) == 0 else { throw Self.error("rename \(temporary)") }
        flusher?.request()
    }

    private static func error(_ what: String) -> RPCError {
        RPCError(.internal, "journal: \(what): \(String(cString: strerror(errno)))")
    }
}
