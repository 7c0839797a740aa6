import FMAHTTPServer
import FMARPC
import FMATestSupport
import Foundation
import Logging
import ServiceLifecycle

/// An `HTTPServer` on 127.0.0.1 (port 0) running under its own `ServiceGroup` in this process.
struct RunningHTTPServer: Sendable {
    let server: HTTPServer
    let group: ServiceGroup
    let address: RPCAddress

    var url: String { HTTPServer.url(address) }

    var port: Int {
        guard case .tcp(_, let port) = address else { return 0 }
        return port
    }

    func shutdown() async { await group.triggerGracefulShutdown() }
}

/// Runs a server for `router` during `body`, then shuts it down gracefully and waits for `run()`
/// to return (bounded by the test's own waits).
func withHTTPServer<T: Sendable>(
    _ router: HTTPRouter,
    configuration: HTTPServer.Configuration = HTTPServer.Configuration(name: "test"),
    _ body: @Sendable (RunningHTTPServer) async throws -> T
) async throws -> T {
    let server = HTTPServer(address: .tcp(host: "127.0.0.1", port: 0), router: router, logger: .silent, configuration: configuration)
    let address = try await server.bind()
    return try await withRunningServices([server]) { group in
        try await body(RunningHTTPServer(server: server, group: group, address: address))
    }
}

/// What curl saw: the final status, the final response's headers (names lower-cased) and body.
struct CurlResult: Sendable {
    var status: Int
    var headers: [String: String]
    var body: String
}

/// Runs /usr/bin/curl with `arguments` (the URL among them) and returns what it received.
func curl(_ arguments: [String], directory: String) async throws -> CurlResult {
    let tag = UUID().uuidString.prefix(8)
    let headerFile = "\(directory)/curl-\(tag).headers"
    let bodyFile = "\(directory)/curl-\(tag).body"
    let run = try await runCommand("/usr/bin/curl", ["-sS", "-D", headerFile, "-o", bodyFile, "-w", "%{http_code}"] + arguments,
                                   directory: directory)
    guard run.termination.exitCode == 0, let status = Int(run.stdout) else {
        throw TestSupportError("curl \(arguments) failed (\(run.termination)): \(run.stderr)")
    }
    // Only the last response's headers (a 100 Continue may precede it).
    let headerText = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
    let lastBlock = headerText.components(separatedBy: "\r\n\r\n").last(where: { !$0.isEmpty }) ?? ""
    var headers: [String: String] = [:]
    for line in lastBlock.components(separatedBy: "\r\n").dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
    return CurlResult(status: status, headers: headers, body: body)
}

extension RawFrameSocket {
    /// Reads (bounded, never blocking a thread) until `done` holds for everything read so far
    /// on this socket, or the peer closes; returns everything read.
    func readText(into received: inout [UInt8], timeout: Duration = .seconds(60), until done: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while !done(String(decoding: received, as: UTF8.self)) {
            guard ContinuousClock.now < deadline else {
                throw TestSupportError("timed out; read so far: \(String(decoding: received, as: UTF8.self).debugDescription)")
            }
            switch try readAvailable() {
            case .some(let bytes) where bytes.isEmpty:
                try await Task.sleep(for: .milliseconds(2))
            case .some(let bytes):
                received += bytes
            case .none:
                return String(decoding: received, as: UTF8.self)
            }
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Waits (bounded) for the peer to close the connection, discarding what arrives.
    func waitForClose(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try readAvailable() == nil { return }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw TestSupportError("the server did not close the connection within \(timeout)")
    }

    /// What the socket holds now: bytes (empty if none yet) or nil once the peer closed.
    private func readAvailable() throws -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 0) > 0 else { return [] }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &chunk, chunk.count, 0)
        if count == 0 { return nil }
        if count < 0 {
            if errno == ECONNRESET { return nil }
            throw TestSupportError("recv: \(String(cString: strerror(errno)))")
        }
        return Array(chunk[0..<count])
    }
}
