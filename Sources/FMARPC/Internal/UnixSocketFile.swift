#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
