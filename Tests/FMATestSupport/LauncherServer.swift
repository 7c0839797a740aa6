import FMAAPI
import FMARPC
import Foundation
import Synchronization

/// The real `fma-launcher` with the fake vLLM as its entry point, on a temporary Unix socket.
public final class LauncherServer: @unchecked Sendable {
    public private(set) var process: ChildProcess
    public let address: RPCAddress
    public let directory: String
    public let stateDirectory: String
    public let node = "test-node"
    private let arguments: [String]

    /// Starts the launcher and waits (bounded) until it serves (its zygote has preloaded).
    /// `gpuArguments` replace the default `--mock-gpus 4 --node-name test-node`. The readiness
    /// probe is off (READY events would interleave with the revisions tests count) unless
    /// `extraArguments` give `--ready-probe-interval`. Instances get no cgroups unless
    /// `cgroups` (a test that kills its instances after the launcher would leave theirs).
    public init(directory: String, extraArguments: [String] = [], gpuArguments: [String]? = nil, cgroups: Bool = false) async throws {
        self.directory = directory
        stateDirectory = directory + "/state"
        let socket = directory + "/launcher.sock"
        address = .unix(path: socket)
        arguments = ["serve", "--listen", "unix:\(socket)", "--state-dir", stateDirectory,
                     "--python-path", repositoryRoot + "/python",
                     "--entrypoint", "fma_fakevllm", "--preload", "fma_fakevllm.server", "--preload", "xml.dom.minidom",
                     "--log-level", "debug"] + (gpuArguments ?? ["--mock-gpus", "4", "--node-name", "test-node"])
            + ["--ready-probe-interval", "0", "--instance-cgroups", cgroups ? "auto" : "off"] + extraArguments
        process = try await Self.start(arguments: arguments, directory: directory)
    }

    private static func start(arguments: [String], directory: String) async throws -> ChildProcess {
        let readyFile = directory + "/launcher-ready-\(UUID().uuidString.prefix(6))"
        let process = try ChildProcess(binDirectory + "/fma-launcher", arguments + ["--ready-file", readyFile], directory: directory)
        try await waitUntil(timeout: .seconds(60), "fma-launcher's ready file") {
            if kill(process.pid, 0) != 0 { throw TestSupportError("fma-launcher exited early: \(process.stderr)") }
            return FileManager.default.fileExists(atPath: readyFile)
        }
        return process
    }

    /// Kills the launcher with SIGKILL (its instances live on) and starts it again.
    public func killAndRestart() async throws {
        process.signal(SIGKILL)
        try await process.waitForExit()
        process = try await Self.start(arguments: arguments, directory: directory)
    }

    public func client() -> LauncherClient { LauncherClient(RPCClient(address: address)) }

    /// The zygote's pid: the launcher's child running python -m fma_zygote in the launcher's session.
    public var zygotePID: Int32? {
        let launcher = process.pid
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // Orphaned instances are the launcher's children too, with the zygote's command line;
            // they lead their own sessions, the zygote does not.
            guard fields.count > 3, fields[0] != "Z", Int32(fields[1]) == launcher, Int32(fields[3]) != pid else { continue }
            let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            if command.contains("fma_zygote") { return pid }
        }
        return nil
    }

    public func stop() { process.stop() }
}

/// A TCP port that was free a moment ago on 127.0.0.1 (for a fake vLLM's --port), and never
/// handed out before in this test process. The kernel may give a port that was just closed to
/// the next `bind(0)`: two tests running at once could then get the same port, and one test's
/// launcher would find the other test's server answering on it.
public func freePort() throws -> Int {
    for _ in 0..<100 {
        guard let port = LoopbackProbe.freePort() else { throw TestSupportError("no free port on 127.0.0.1") }
        if handedOutPorts.withLock({ $0.insert(port).inserted }) { return port }
    }
    throw TestSupportError("no port on 127.0.0.1 that this test process has not used already")
}

private let handedOutPorts = Mutex<Set<Int>>([])

/// Fetches http://127.0.0.1:PORT/PATH (plain HTTP/1.0 over a socket), returning status and body;
/// nil when nothing answers. Bounded by `timeout`; never blocks the thread pool for long.
public func httpGet(port: Int, path: String, timeout: Duration = .seconds(2)) async -> (status: Int, body: String)? {
    guard let fd = LoopbackProbe.connect(port: port) else { return nil }
    defer { close(fd) }
    guard LoopbackProbe.sendGet(fd, path: path) else { return nil }
    var response: [UInt8] = []
    let deadline = ContinuousClock.now + timeout
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    while ContinuousClock.now < deadline {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &chunk, chunk.count, 0)
        if count == 0 { break }
        if count < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK {
                try? await Task.sleep(for: .milliseconds(2))
                continue
            }
            return nil
        }
        response += chunk[0..<count]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let statusLine = text.split(separator: "\r\n").first else { return nil }
    let parts = statusLine.split(separator: " ")
    guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}
