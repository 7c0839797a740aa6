import FMARPC
import Foundation

/// The instance table on disk, so a restarted launcher can take its instances over.
///
/// Written after every change as JSON to a temporary file, flushed with fsync, then renamed
/// over the journal (and the directory synced): a crash leaves the old or the new table, never
/// a torn one.
struct Journal: Sendable {
    struct Contents: Codable, Sendable {
        var revision: UInt64
        var instances: [InstanceRecord]
    }

    let path: String

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
        guard fsync(fd) == 0 else { throw Self.error("fsync \(temporary)") }
        guard rename(temporary, path) == 0 else { throw Self.error("rename \(temporary)") }
        let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    private static func error(_ what: String) -> RPCError {
        RPCError(.internal, "journal: \(what): \(String(cString: strerror(errno)))")
    }
}
