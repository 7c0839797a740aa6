import FMAAPI
import FMARPC
import FMATestSupport
import FMAWire
import Foundation
import Testing

/// What the fake vLLM reports about its own process (GET /fma/process).
struct ProcessReport: Decodable {
    var pid: Int32
    var ppid: Int32
    var pgid: Int32
    var sid: Int32
    var argv: [String]
    var env: [String: String]
    var fds: [String: String]
    var blocked_signals: [Int]
    var sigterm: String
    var sigpipe: String
    var sigint: String
    var preloaded: [String]
    var grandchild_pid: Int32?
    var daemon_pid: Int32?
}

extension Fma_V1_CreateInstanceRequest {
    /// A fake vLLM on `port`, with extra options.
    static func fake(id: String = "", port: Int, _ extra: [String] = [], env: [String: String] = [:], gpus: [String] = []) -> Self {
        .with {
            $0.id = id
            $0.options = ["--host", "127.0.0.1", "--port", "\(port)", "--model", "test/model"] + extra
            $0.envVars = env
            $0.gpuUuids = gpus
        }
    }
}

/// Waits (bounded) until the fake vLLM on `port` answers /health with 200.
func waitHealthy(port: Int, timeout: Duration = .seconds(30)) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let answer = await httpGet(port: port, path: "/health"), answer.status == 200 { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    throw TestSupportError("the instance on port \(port) did not become healthy within \(timeout)")
}

func processReport(port: Int) async throws -> ProcessReport {
    // A loaded machine can keep the instance's server from answering one 2 s request: retry, bounded.
    let deadline = ContinuousClock.now + .seconds(30)
    while true {
        if let answer = await httpGet(port: port, path: "/fma/process", timeout: .seconds(5)), answer.status == 200 {
            return try JSONDecoder().decode(ProcessReport.self, from: Data(answer.body.utf8))
        }
        guard ContinuousClock.now < deadline else { throw TestSupportError("no process report from port \(port) within 30 s") }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// True while a process with this pid exists (zombies count as gone).
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(after: close)...].split(separator: " ").first
    return state != "Z" && state != "X"
}

/// Runs `body` with a launcher in a temporary directory; stops it and kills what it left.
func withLauncher<T>(_ extraArguments: [String] = [], _ body: (LauncherServer, LauncherClient) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { dir in
        let launcher = try await LauncherServer(directory: dir, extraArguments: extraArguments)
        let client = launcher.client()
        defer {
            launcher.stop()
            // Instances outlive the launcher by design: end the ones this test made.
            let journal = (try? String(contentsOfFile: launcher.stateDirectory + "/instances.json", encoding: .utf8)) ?? ""
            for match in journal.matches(of: /"pid":(\d+)/) {
                if let pid = Int32(match.1), pid > 0 { kill(-pid, SIGKILL) }
            }
        }
        return try await body(launcher, client)
    }
}
