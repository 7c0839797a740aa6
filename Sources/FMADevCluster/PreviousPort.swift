import Foundation
import Logging

/// The API server's port of the last run in a state directory (`api-port`), reused when it is
/// free so that kubeconfigs written before a restart keep working.
enum PreviousPort {
    static func path(directory: String) -> String {
        "\(directory)/api-port"
    }

    /// The port of the last run when it can be bound on `host` now; nil otherwise (logged).
    static func read(directory: String, host: String, logger: Logger) -> Int? {
        guard let text = try? String(contentsOfFile: path(directory: directory), encoding: .utf8),
              let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), (1...65535).contains(port) else { return nil }
        guard isFree(host: host, port: port) else {
            logger.warning("the last run's API port is taken; listening on a new one (kubeconfigs written before must be read again)",
                           metadata: ["port": "\(port)"])
            return nil
        }
        return port
    }

    /// Whether a listener could bind `host:port` now (with SO_REUSEADDR, as the server binds).
    private static func isFree(host: String, port: Int) -> Bool {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let lookupHost = host == "localhost" ? "127.0.0.1" : host
        guard getaddrinfo(lookupHost, String(port), &hints, &result) == 0, let info = result else { return false }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        return bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0
    }
}
