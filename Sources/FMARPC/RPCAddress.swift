/// Where a server listens or a client connects: a Unix-domain socket or a TCP endpoint.
///
/// Written `unix:PATH` (or `unix://PATH`) and `tcp://HOST:PORT` (an IPv6 host in brackets).
public enum RPCAddress: Hashable, Sendable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)

    /// Parses an address string, naming what is wrong when it cannot.
    public init(parsing text: String) throws(RPCAddressError) {
        if text.hasPrefix("unix://") {
            self = try Self.unixAddress(String(text.dropFirst("unix://".count)), text: text)
        } else if text.hasPrefix("unix:") {
            self = try Self.unixAddress(String(text.dropFirst("unix:".count)), text: text)
        } else if text.hasPrefix("tcp://") {
            self = try Self.tcpAddress(String(text.dropFirst("tcp://".count)), text: text)
        } else {
            throw RPCAddressError(text: text, reason: "expected unix:PATH or tcp://HOST:PORT")
        }
    }

    private static func unixAddress(_ path: String, text: String) throws(RPCAddressError) -> RPCAddress {
        guard !path.isEmpty else { throw RPCAddressError(text: text, reason: "the socket path is empty") }
        // sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
        guard path.utf8.count < 108 else {
            throw RPCAddressError(text: text, reason: "the socket path is \(path.utf8.count) bytes; at most 107 fit")
        }
        return .unix(path: path)
    }

    private static func tcpAddress(_ hostPort: String, text: String) throws(RPCAddressError) -> RPCAddress {
        let host: Substring
        let portText: Substring
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw RPCAddressError(text: text, reason: "an IPv6 host needs a closing ']'")
            }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let rest = hostPort[hostPort.index(after: close)...]
            guard rest.hasPrefix(":") else { throw RPCAddressError(text: text, reason: "missing ':PORT'") }
            portText = rest.dropFirst()
        } else {
            guard let colon = hostPort.lastIndex(of: ":") else {
                throw RPCAddressError(text: text, reason: "missing ':PORT'")
            }
            host = hostPort[..<colon]
            portText = hostPort[hostPort.index(after: colon)...]
        }
        guard !host.isEmpty else { throw RPCAddressError(text: text, reason: "the host is empty") }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw RPCAddressError(text: text, reason: "the port '\(portText)' is not a number from 0 to 65535")
        }
        return .tcp(host: String(host), port: port)
    }

    public var description: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let host, let port):
            return host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        }
    }

    /// True for a TCP host on the loopback interface (127.0.0.0/8, ::1, localhost).
    public var isLoopback: Bool {
        switch self {
        case .unix: return true
        case .tcp(let host, _):
            return host == "localhost" || host == "::1" || host.hasPrefix("127.")
        }
    }

    public var isTCP: Bool {
        if case .tcp = self { return true }
        return false
    }
}

/// An address string that could not be parsed.
public struct RPCAddressError: Error, Equatable, Sendable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "invalid address '\(text)': \(reason)" }
}
