#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The socket file of a Unix-domain listener: replaced only when stale, made 0660, removed at exit.
enum UnixSocketFile {
    /// Makes `path` free to bind: a stale socket file (nothing listens) is removed; a live one,
    /// or a file that is not a socket, is an error naming the path.
    static func prepare(_ path: String) throws(RPCError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw RPCError(.failedPrecondition, "cannot listen on unix:\(path): the path exists and is not a socket")
        }
        if someoneListens(path) {
            throw RPCError(.failedPrecondition, "cannot listen on unix:\(path): another server is listening there")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw RPCError(.failedPrecondition, "cannot remove the stale socket file \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Binds `path` so that its mode holds from the first moment anyone could connect: the
    /// socket is made in a fresh 0700 directory beside `path`, given `mode`, then renamed into
    /// place. (Binding at `path` and then chmod-ing leaves a window, under a permissive umask,
    /// in which any user can connect.) When the private path would be too long for a socket
    /// address, the socket is bound at `path` under a umask that yields `mode` at once.
    static func bindPrivately(_ path: String, mode: mode_t,
                              bind: (String) async throws -> any Channel) async throws -> any Channel {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        var template = Array(((directory.isEmpty ? "/" : directory) + "/.fma-socket-XXXXXX").utf8CString)
        let privateDirectory: String? = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let privateDirectory, (privateDirectory + "/s").utf8.count < maxPathBytes else {
            if let privateDirectory { rmdir(privateDirectory) }
            let previous = umask(0o777 & ~mode)
            defer { umask(previous) }
            let bound = try await bind(path)
            try setMode(path, mode)
            return bound
        }
        defer { rmdir(privateDirectory) }
        let privatePath = privateDirectory + "/s"
        let bound = try await bind(privatePath)
        if let failure = moveIntoPlace(privatePath, path, mode: mode) {
            unlink(privatePath)
            try? await bound.close()
            throw failure
        }
        return bound
    }

    /// Gives the socket at `privatePath` its mode, then renames it to `path`; the error, if any.
    private static func moveIntoPlace(_ privatePath: String, _ path: String, mode: mode_t) -> RPCError? {
        guard chmod(privatePath, mode) == 0 else {
            return RPCError(.internal, "cannot set mode \(String(mode, radix: 8)) on \(privatePath): \(String(cString: strerror(errno)))")
        }
        guard rename(privatePath, path) == 0 else {
            return RPCError(.failedPrecondition, "cannot move the socket into place at \(path): \(String(cString: strerror(errno)))")
        }
        return nil
    }

    /// The longest socket path the kernel takes (sun_path less its terminating NUL).
    private static let maxPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    static func setMode(_ path: String, _ mode: mode_t) throws(RPCError) {
        guard chmod(path, mode) == 0 else {
            throw RPCError(.internal, "cannot set mode \(String(mode, radix: 8)) on \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func remove(_ path: String) {
        unlink(path)
    }

    private static func someoneListens(_ path: String) -> Bool {
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}
