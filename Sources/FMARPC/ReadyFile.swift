import Foundation

/// The file a server writes once it listens, so that scripts and tests wait on a file, not a sleep.
public enum ReadyFile {
    /// Writes `lines` to `path` atomically (a temporary file, then rename): a reader sees the
    /// whole file or none.
    public static func write(lines: [String], to path: String) throws {
        let text = lines.map { $0 + "\n" }.joined()
        let temporary = path + ".tmp-\(getpid())"
        do {
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
            guard rename(temporary, path) == 0 else {
                throw RPCError(.internal, "cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
            }
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(.internal, "cannot write the ready file \(path): \(error)", cause: error)
        }
    }
}
