import FMATestSupport
import Foundation

/// `http_test_server.py` running as a child process on 127.0.0.1 and a free port.
final class TestHTTPServer: Sendable {
    let process: ChildProcess
    let port: Int
    let scheme: String

    /// Starts the server (HTTPS when `tls` is given) and waits, bounded, for its ready file.
    init(directory: String, tls: TestCertificates? = nil, requireClientCertificate: Bool = false) async throws {
        let readyFile = directory + "/ready-\(UUID().uuidString.prefix(8))"
        var arguments = [Self.script, "--ready-file", readyFile, "--lifetime", "120"]
        if let tls {
            arguments += ["--cert", tls.serverCertificate, "--key", tls.serverKey]
            if requireClientCertificate { arguments += ["--client-ca", tls.caCertificate] }
        }
        let process = try ChildProcess("/usr/bin/python3", arguments, directory: directory, name: "http_test_server")
        self.process = process
        do {
            try await waitUntil(timeout: .seconds(20), "the ready file of http_test_server.py") {
                if kill(process.pid, 0) != 0 { throw TestSupportError("http_test_server.py exited early: \(process.stderr)") }
                return FileManager.default.fileExists(atPath: readyFile)
            }
            let text = try String(contentsOfFile: readyFile, encoding: .utf8)
            guard let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw TestSupportError("bad ready file: \(text)")
            }
            self.port = port
        } catch {
            process.stop()
            throw error
        }
        scheme = tls == nil ? "http" : "https"
    }

    func url(_ path: String) -> String { "\(scheme)://127.0.0.1:\(port)\(path)" }

    func stop() { process.stop() }

    static let script: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        return url.appendingPathComponent("http_test_server.py").path
    }()
}

/// Runs `body` with a fresh temporary directory and a test server in it; kills the server
/// (by pid) however `body` ends.
func withTestHTTPServer<T>(
    tls: Bool = false,
    requireClientCertificate: Bool = false,
    _ body: (TestHTTPServer, TestCertificates?) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { directory in
        let certificates = tls ? try await TestCertificates(directory: directory) : nil
        let server = try await TestHTTPServer(directory: directory, tls: certificates, requireClientCertificate: requireClientCertificate)
        defer { server.stop() }
        return try await body(server, certificates)
    }
}

/// A private CA, a server certificate for 127.0.0.1 and localhost, and a client certificate,
/// made with `openssl` in `directory`.
struct TestCertificates: Sendable {
    let caCertificate: String
    let serverCertificate: String
    let serverKey: String
    let clientCertificate: String
    let clientKey: String
    static let clientCommonName = "fma-test-client"

    init(directory: String) async throws {
        let dir = directory
        caCertificate = dir + "/ca.crt"
        serverCertificate = dir + "/server.crt"
        serverKey = dir + "/server.key"
        clientCertificate = dir + "/client.crt"
        clientKey = dir + "/client.key"
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: dir + "/server.ext", atomically: true, encoding: .utf8)
        try "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n"
            .write(toFile: dir + "/client.ext", atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await Self.openssl(["req", "-x509"] + ec + ["-keyout", dir + "/ca.key", "-out", caCertificate, "-days", "2",
                                "-subj", "/CN=fma-test-ca",
                                "-addext", "basicConstraints=critical,CA:TRUE",
                                "-addext", "keyUsage=critical,keyCertSign,cRLSign"], directory: dir)
        for (name, subject) in [("server", "/CN=127.0.0.1"), ("client", "/CN=\(Self.clientCommonName)")] {
            try await Self.openssl(["req"] + ec + ["-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).csr", "-subj", subject], directory: dir)
            try await Self.openssl(["x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", caCertificate, "-CAkey", dir + "/ca.key",
                                    "-CAcreateserial", "-out", "\(dir)/\(name).crt", "-days", "2",
                                    "-extfile", "\(dir)/\(name).ext"], directory: dir)
        }
    }

    func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    private static func openssl(_ arguments: [String], directory: String) async throws {
        let result = try await runCommand("/usr/bin/openssl", arguments, directory: directory, timeout: .seconds(30))
        guard result.termination.exitCode == 0 else {
            throw TestSupportError("openssl \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
    }
}

/// A TCP port on 127.0.0.1 that refuses connections: bound, never listening, held until
/// `close()`, so no other process can take it meanwhile.
final class RefusingPort {
    let port: Int
    private var descriptor: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw TestSupportError("bind: \(reason)")
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    deinit { close() }
}

/// Decodes a JSON body.
func json(_ body: [UInt8]) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
        throw TestSupportError("not a JSON object: \(String(decoding: body, as: UTF8.self))")
    }
    return object
}
