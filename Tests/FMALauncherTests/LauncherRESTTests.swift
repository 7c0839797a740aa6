import FMAAPI
import FMARPC
import FMATestSupport
import FMAWire
import Foundation
import Testing

/// FMA's launcher REST API (`--rest-port`), checked with curl as an independent client.
@Suite("fma-launcher: FMA's REST API", .serialized)
struct LauncherRESTTests {
    struct Answer {
        var status: Int
        var headers: String
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    /// Runs curl against the launcher's REST base URL.
    static func curl(_ base: String, _ method: String, _ path: String, body: String? = nil, contentType: String = "application/json",
                     headers: [String] = [], directory: String, maxTime: Int = 10) async throws -> Answer {
        var arguments = ["-s", "-S", "-X", method, "-D", directory + "/headers", "-o", directory + "/body", "-w", "%{http_code}", "--max-time", "\(maxTime)"]
        for header in headers { arguments += ["-H", header] }
        if let body { arguments += ["-H", "Content-Type: \(contentType)", "--data-binary", body] }
        arguments.append(base + path)
        let result = try await runCommand("/usr/bin/curl", arguments, directory: directory, timeout: .seconds(Int64(maxTime) + 10))
        return Answer(status: Int(result.stdout) ?? 0,
                      headers: (try? String(contentsOfFile: directory + "/headers", encoding: .utf8)) ?? "",
                      body: (try? String(contentsOfFile: directory + "/body", encoding: .utf8)) ?? "")
    }

    static func restBase(_ launcher: LauncherServer) throws -> String {
        let ready = try FileManager.default.contentsOfDirectory(atPath: launcher.directory).first { $0.hasPrefix("launcher-ready-") }
        let lines = try String(contentsOfFile: launcher.directory + "/" + #require(ready), encoding: .utf8).split(separator: "\n")
        return String(try #require(lines.first { $0.hasPrefix("http://") }))
    }

    @Test("the ready file lists the RPC address, then the REST base URL, then the metrics URL (wire-protocol §1)")
    func readyFileOrder() async throws {
        try await withLauncher(["--rest-port", "0", "--metrics-listen", "tcp://127.0.0.1:0"]) { launcher, _ in
            let ready = try FileManager.default.contentsOfDirectory(atPath: launcher.directory).first { $0.hasPrefix("launcher-ready-") }
            let lines = try String(contentsOfFile: launcher.directory + "/" + #require(ready), encoding: .utf8)
                .split(separator: "\n").map(String.init)
            #expect(lines.count == 3)
            #expect(lines.first == launcher.address.description)
            #expect(lines.dropFirst().first?.hasPrefix("http://127.0.0.1:") == true && lines.dropFirst().first?.hasSuffix("/metrics") == false)
            #expect(lines.last?.hasPrefix("http://127.0.0.1:") == true && lines.last?.hasSuffix("/metrics") == true)
            let rest = try await Self.curl(try Self.restBase(launcher), "GET", "/v2/vllm/instances", directory: launcher.directory)
            #expect(rest.status == 200)
        }
    }

    @Test("cross-site requests are refused: a body that is not JSON, a foreign Host; nothing is created")
    func crossSite() async throws {
        try await withLauncher(["--rest-port", "0"]) { launcher, client in
            let base = try Self.restBase(launcher)
            let dir = launcher.directory
            let body = #"{"options": "--host 127.0.0.1 --port \#(try freePort())"}"#
            let form = try await Self.curl(base, "POST", "/v2/vllm/instances", body: body, contentType: "text/plain", directory: dir)
            #expect(form.status == 415)
            #expect(form.body.contains("application/json"))
            let rebound = try await Self.curl(base, "POST", "/v2/vllm/instances", body: body, headers: ["Host: attacker.example:8001"], directory: dir)
            #expect(rebound.status == 403)
            #expect(rebound.body.contains("attacker.example"))
            #expect(try await Self.curl(base, "GET", "/v2/vllm/instances", headers: ["Host: attacker.example"], directory: dir).status == 403)
            #expect(try await client.list().instances.isEmpty)
            // The same request, same-origin and JSON, is served.
            #expect(try await Self.curl(base, "POST", "/v2/vllm/instances", body: body, headers: ["Host: localhost"], directory: dir).status == 201)
        }
    }

    @Test("with --rest-token-file every request needs the bearer token; a non-loopback --rest-host needs a token or --rest-insecure")
    func token() async throws {
        try await withTemporaryDirectory { dir in
            try "rest-secret\n".write(toFile: dir + "/rest-token", atomically: true, encoding: .utf8)
            let refused = try await runCommand(binDirectory + "/fma-launcher", ["serve", "--listen", "unix:\(dir)/l.sock", "--state-dir", dir + "/state",
                                                                              "--mock-gpus", "1", "--rest-port", "0", "--rest-host", "0.0.0.0"], directory: dir)
            #expect(refused.termination.exitCode == 64)
            #expect(refused.stderr.contains("--rest-token-file"))
        }
        try await withTemporaryDirectory { scratch in
            try "rest-secret\n".write(toFile: scratch + "/rest-token", atomically: true, encoding: .utf8)
            try await withLauncher(["--rest-port", "0", "--rest-token-file", scratch + "/rest-token"]) { launcher, _ in
                let base = try Self.restBase(launcher)
                #expect(try await Self.curl(base, "GET", "/v2/vllm/instances", directory: scratch).status == 401)
                #expect(try await Self.curl(base, "GET", "/v2/vllm/instances", headers: ["Authorization: Bearer wrong"], directory: scratch).status == 401)
                #expect(try await Self.curl(base, "GET", "/v2/vllm/instances", headers: ["Authorization: Bearer rest-secret"], directory: scratch).status == 200)
            }
        }
    }

    @Test("index, health, create (POST and PUT), get, list with and without detail, delete, delete all")
    func crud() async throws {
        try await withLauncher(["--rest-port", "0"]) { launcher, _ in
            let base = try Self.restBase(launcher)
            let dir = launcher.directory
            let index = try await Self.curl(base, "GET", "/", directory: dir)
            #expect(index.status == 200)
            #expect((index.json["endpoints"] as? [String: Any])?.count == 10)
            #expect(try await Self.curl(base, "GET", "/health", directory: dir).body.contains("\"OK\""))

            let port = try freePort()
            let created = try await Self.curl(base, "PUT", "/v2/vllm/instances/rest1", body: #"{"options": "--host 127.0.0.1 --port \#(port)", "env_vars": {"A": "1"}, "annotations": {"isc-name": "x"}}"#, directory: dir)
            #expect(created.status == 201)
            #expect(created.json["instance_id"] as? String == "rest1")
            #expect(created.json["status"] as? String == "running")
            #expect((created.json["annotations"] as? [String: String])?["isc-name"] == "x")
            #expect(created.json["gpu_uuids"] == nil, "absent fields are left out")
            let duplicate = try await Self.curl(base, "PUT", "/v2/vllm/instances/rest1", body: #"{"options": "--port 1"}"#, directory: dir)
            #expect(duplicate.status == 409)
            let posted = try await Self.curl(base, "POST", "/v2/vllm/instances", body: #"{"options": "--host 127.0.0.1 --port \#(try freePort())"}"#, directory: dir)
            #expect(posted.status == 201)
            let generated = try #require(posted.json["instance_id"] as? String)

            let invalid = try await Self.curl(base, "POST", "/v2/vllm/instances", body: #"{"opts": 1}"#, directory: dir)
            #expect(invalid.status == 422)
            let badGPU = try await Self.curl(base, "PUT", "/v2/vllm/instances/rest9", body: #"{"options": "--port 9", "gpu_uuids": ["GPU-x"]}"#, directory: dir)
            #expect(badGPU.status == 400)
            #expect(badGPU.body.contains("GPU-x"))

            let detail = try await Self.curl(base, "GET", "/v2/vllm/instances", directory: dir)
            #expect(detail.json["total_instances"] as? Int == 2)
            #expect(detail.json["running_instances"] as? Int == 2)
            let ids = try await Self.curl(base, "GET", "/v2/vllm/instances?detail=false", directory: dir)
            #expect(ids.json["count"] as? Int == 2)
            #expect(Set(ids.json["instance_ids"] as? [String] ?? []) == ["rest1", generated])
            #expect(try await Self.curl(base, "GET", "/v2/vllm/instances?detail=maybe", directory: dir).status == 422)
            #expect(try await Self.curl(base, "GET", "/v2/vllm/instances/nobody", directory: dir).status == 404)

            let deleted = try await Self.curl(base, "DELETE", "/v2/vllm/instances/rest1", directory: dir)
            #expect(deleted.status == 200)
            #expect(deleted.json["status"] as? String == "stopped")
            #expect(try await Self.curl(base, "DELETE", "/v2/vllm/instances/rest1", directory: dir).status == 404)
            let all = try await Self.curl(base, "DELETE", "/v2/vllm/instances", directory: dir)
            #expect(all.json["status"] as? String == "all_stopped")
            #expect(all.json["total_stopped"] as? Int == 1)
            #expect(try await Self.curl(base, "PATCH", "/v2/vllm/instances", directory: dir).status == 405)
        }
    }

    @Test("logs: 200 without Range, 206 with one, 416 beyond the end, 400 for a malformed Range")
    func logs() async throws {
        try await withLauncher(["--rest-port", "0"]) { launcher, client in
            let base = try Self.restBase(launcher)
            let dir = launcher.directory
            let port = try freePort()
            _ = try await client.create(.fake(id: "logged", port: port))
            try await waitHealthy(port: port)
            let whole = try await client.log("logged")
            let total = whole.totalSize
            let full = try await Self.curl(base, "GET", "/v2/vllm/instances/logged/log", directory: dir)
            #expect(full.status == 200)
            #expect(full.headers.contains("Content-Range: bytes 0-\(total - 1)/\(total)") || full.headers.lowercased().contains("content-range: bytes 0-\(total - 1)/\(total)"))
            #expect(full.body == String(decoding: whole.data, as: UTF8.self))
            let part = try await Self.curl(base, "GET", "/v2/vllm/instances/logged/log", headers: ["Range: bytes=2-5"], directory: dir)
            #expect(part.status == 206)
            #expect(part.body == String(decoding: whole.data[2...5], as: UTF8.self))
            #expect(part.headers.lowercased().contains("content-range: bytes 2-5/\(total)"))
            let open = try await Self.curl(base, "GET", "/v2/vllm/instances/logged/log", headers: ["Range: bytes=3-"], directory: dir)
            #expect(open.status == 206 && open.body == String(decoding: whole.data[3...], as: UTF8.self))
            let beyond = try await Self.curl(base, "GET", "/v2/vllm/instances/logged/log", headers: ["Range: bytes=\(total + 5)-"], directory: dir)
            #expect(beyond.status == 416)
            #expect(beyond.headers.lowercased().contains("content-range: bytes */\(total)"))
            for bad in ["bytes=-5", "items=0-1", "bytes=0-1,3-4", "garbage"] {
                let answer = try await Self.curl(base, "GET", "/v2/vllm/instances/logged/log", headers: ["Range: \(bad)"], directory: dir)
                #expect(answer.status == 400, "Range: \(bad)")
            }
            #expect(try await Self.curl(base, "GET", "/v2/vllm/instances/logged/log", headers: ["Range: bytes=5-2"], directory: dir).status == 400)
            #expect(try await Self.curl(base, "GET", "/v2/vllm/instances/nobody/log", directory: dir).status == 404)
        }
    }

    @Test("watch: NDJSON lines, synthetic CREATED, since resumes, 410 when too old")
    func watch() async throws {
        try await withLauncher(["--rest-port", "0", "--event-history", "2"]) { launcher, client in
            let base = try Self.restBase(launcher)
            let dir = launcher.directory
            let first = try await client.create(.fake(id: "n1", port: try freePort()))
            // curl ends the stream after --max-time; what arrived by then is checked.
            let initial = try await Self.curl(base, "GET", "/v2/vllm/instances/watch", directory: dir, maxTime: 1)
            #expect(initial.headers.lowercased().contains("application/x-ndjson"))
            let line = try #require(initial.body.split(separator: "\n").first)
            let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(event["type"] as? String == "CREATED")
            #expect((event["object"] as? [String: Any])?["revision"] as? Int == Int(first.revision))
            #expect(event["revision"] == nil, "the revision is inside object")

            _ = try await client.delete("n1")
            let resumed = try await Self.curl(base, "GET", "/v2/vllm/instances/watch?since=\(first.revision)", directory: dir, maxTime: 1)
            #expect(resumed.body.contains("\"DELETED\""))
            for index in 0..<2 {
                _ = try await client.create(.fake(id: "m\(index)", port: try freePort()))
            }
            let gone = try await Self.curl(base, "GET", "/v2/vllm/instances/watch?since=0", directory: dir)
            #expect(gone.status == 410)
            #expect(gone.body.contains("Requested revision 0 is no longer available"))
        }
    }
}
