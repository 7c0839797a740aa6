import FMAHTTPClient
import FMATestSupport
import Foundation
import Testing

/// The client against a server that speaks only HTTP/2 (as Kubernetes API servers prefer):
/// libcurl negotiates it by ALPN, and streaming works over it.
@Suite("HTTP/2")
struct HTTPClientHTTP2Tests {
    private static let script: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        return url.appendingPathComponent("h2_test_server.py").path
    }()

    private func withH2Server(_ body: (String, TestCertificates) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            let certificates = try await TestCertificates(directory: directory)
            let readyFile = directory + "/h2.ready"
            let process = try ChildProcess("/usr/bin/env", ["python3", Self.script, "--ready-file", readyFile, "--cert", certificates.serverCertificate,
                                                                 "--key", certificates.serverKey, "--lifetime", "120"],
                                           directory: directory, name: "h2_test_server")
            defer { process.stop() }
            try await waitUntil(timeout: .seconds(20), "the ready file of h2_test_server.py") {
                if kill(process.pid, 0) != 0 { throw TestSupportError("h2_test_server.py exited early: \(process.stderr)") }
                return FileManager.default.fileExists(atPath: readyFile)
            }
            let port = try String(contentsOfFile: readyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            try await body("https://127.0.0.1:\(port)", certificates)
        }
    }

    @Test("a request and a streamed body over HTTP/2; with HTTP/2 turned off the h2-only server is unreachable")
    func http2() async throws {
        try await withH2Server { base, certificates in
            var configuration = HTTPClient.Configuration()
            configuration.tls.trustRoots = .file(certificates.caCertificate)
            configuration.bearerToken = { "h2-token" }
            try await withHTTPClient(configuration: configuration) { client in
                let response = try await client.send(HTTPClientRequest(.get, base + "/proto"))
                #expect(response.status == 200)
                let answer = try json(response.body)
                #expect(answer["protocol"] as? String == "h2")
                #expect(answer["authorization"] as? String == "Bearer h2-token")

                let stream = try await client.stream(HTTPClientRequest(.get, base + "/ndjson?count=4&interval_ms=30"))
                #expect(stream.status == 200)
                var text: [UInt8] = []
                for try await chunk in stream.body { text += chunk }
                let lines = String(decoding: text, as: UTF8.self).split(separator: "\n")
                #expect(lines == ["{\"index\": 0}", "{\"index\": 1}", "{\"index\": 2}", "{\"index\": 3}"])
            }

            configuration.allowHTTP2 = false
            _ = await withHTTPClient(configuration: configuration) { client in
                await #expect(throws: HTTPClientError.self) {
                    _ = try await client.send(HTTPClientRequest(.get, base + "/proto"))
                }
            }
        }
    }
}
