#if canImport(Glibc)
import Glibc
#endif

/// Small blocking probes of servers on loopback — an instance's `/health`, a free port — for
/// command-line tools, benchmarks and tests. Every call has short timeouts. `host` is an IPv4
/// loopback address (127.0.0.0/8: fma-devcluster gives each pod its own); anything else is
/// not probed.
public enum LoopbackProbe {
    /// A TCP socket connected to `host`:`port`, receive timeout `timeoutSeconds`; nil when
    /// nothing listens. The caller closes it.
    public static func connect(port: Int, host: String = "127.0.0.1", timeoutSeconds: Int = 1) -> Int32? {
        guard var address = loopback(host: host, port: port) else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Sends a bare HTTP/1.0 `GET path` on `fd`; true when all of it was sent.
    public static func sendGet(_ fd: Int32, path: String) -> Bool {
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        return request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == request.count
    }

    /// True when `GET /health` on `host`:`port` answers 200.
    public static func isHealthy(port: Int, host: String = "127.0.0.1") -> Bool {
        guard let fd = connect(port: port, host: host) else { return false }
        defer { close(fd) }
        guard sendGet(fd, path: "/health") else { return false }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count >= 12 else { return false }
        return buffer[9] == UInt8(ascii: "2") && buffer[10] == UInt8(ascii: "0") && buffer[11] == UInt8(ascii: "0")
    }

    /// A TCP port that was free a moment ago on 127.0.0.1 (another process may take it).
    public static func freePort() -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = loopback(host: "127.0.0.1", port: 0)!
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(host: String, port: Int) -> sockaddr_in? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1,
              UInt32(bigEndian: address.sin_addr.s_addr) >> 24 == 127 else { return nil }
        return address
    }
}
