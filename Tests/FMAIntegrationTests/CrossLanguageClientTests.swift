import FMARPC
import FMATestSupport
import Foundation
import Testing

/// The same running fma-demo called by the three clients: fmactl (Swift), fma-health (C on
/// libprotobuf-c) and `python3 -m fma` (Python), exactly as the README shows.
@Suite("Every client calls the same server")
struct CrossLanguageClientTests {
    static let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "/usr/bin/env"
    static let pythonArguments = ProcessInfo.processInfo.environment["PYTHON"] == nil ? ["python3", "-m", "fma"] : ["-m", "fma"]
    static let pythonEnvironment = ["PYTHONPATH": repositoryRoot + "/python", "FMA_TOKEN": ""]

    @Test("fmactl health: SERVING exits 0, a failed call exits 2 naming the code, bad usage 64")
    func fmactl() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await DemoServer(directory: dir)
            defer { server.stop() }
            let fmactl = binDirectory + "/fmactl"
            let unix = try await runCommand(fmactl, ["health", "\(server.unixAddress)"], directory: dir, environment: ["FMA_TOKEN": ""])
            #expect(unix.termination.exitCode == 0)
            #expect(unix.stdout.hasPrefix("SERVING component=fma-demo version="))
            #expect(unix.stdout.hasSuffix(" max_frame_bytes=4194304\n"))
            let tcp = try await runCommand(fmactl, ["health", "\(server.tcpAddress)", "--token-file", server.tokenFile, "-o", "json"], directory: dir)
            #expect(tcp.termination.exitCode == 0)
            #expect(tcp.stdout.contains(#""status":"SERVING""#))
            #expect(tcp.stdout.contains(#""maxFrameBytes":4194304"#))
            let noToken = try await runCommand(fmactl, ["health", "\(server.tcpAddress)"], directory: dir, environment: ["FMA_TOKEN": ""])
            #expect(noToken.termination.exitCode == 2)
            #expect(noToken.stderr.contains("UNAUTHENTICATED: missing bearer token"))
            let envToken = try await runCommand(fmactl, ["health", "\(server.tcpAddress)"], directory: dir, environment: ["FMA_TOKEN": server.tokenValue])
            #expect(envToken.termination.exitCode == 0)
            let badAddress = try await runCommand(fmactl, ["health", "http://nowhere"], directory: dir)
            #expect(badAddress.termination.exitCode == 64)
            #expect(badAddress.stderr.contains("expected unix:PATH or tcp://HOST:PORT"))
            let nobody = try await runCommand(fmactl, ["health", "unix:\(dir)/nobody.sock"], directory: dir)
            #expect(nobody.termination.exitCode == 2)
            #expect(nobody.stderr.contains("UNAVAILABLE"))
            #expect(nobody.stderr.contains("nobody.sock"))
        }
    }

    @Test("the C tool: health, echo and a stream over Unix and TCP; tokens checked")
    func cTool() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await DemoServer(directory: dir)
            defer { server.stop() }
            let tool = binDirectory + "/fma-health"
            let unix = try await runCommand(tool, ["\(server.unixAddress)"], directory: dir, environment: ["FMA_TOKEN": ""])
            #expect(unix.termination.exitCode == 0, "\(unix.stderr)")
            #expect(unix.stdout.hasPrefix("SERVING component=fma-demo"))
            let tcp = try await runCommand(tool, ["--token-file", server.tokenFile, "\(server.tcpAddress)"], directory: dir)
            #expect(tcp.termination.exitCode == 0, "\(tcp.stderr)")
            let wrong = try await runCommand(tool, ["--token", "wrong", "\(server.tcpAddress)"], directory: dir)
            #expect(wrong.termination.exitCode == 2)
            #expect(wrong.stderr.contains("UNAUTHENTICATED: invalid bearer token"))
            let echo = try await runCommand(tool, ["--echo", "from C", "\(server.unixAddress)"], directory: dir)
            #expect(echo.stdout.contains("from C"))
            let stream = try await runCommand(tool, ["--stream-count", "5", "--token-file", server.tokenFile, "\(server.tcpAddress)"], directory: dir)
            #expect(stream.termination.exitCode == 0)
            #expect(stream.stdout == "0\n1\n2\n3\n4\nstream ended: OK\n")
        }
    }

    @Test("the Python client: health, echo and a stream; tokens checked")
    func python() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await DemoServer(directory: dir)
            defer { server.stop() }
            func fma(_ arguments: [String], token: String = "") async throws -> (termination: Termination, stdout: String, stderr: String) {
                var environment = Self.pythonEnvironment
                environment["FMA_TOKEN"] = token
                return try await runCommand(Self.python, Self.pythonArguments + arguments, directory: dir, environment: environment)
            }
            let unix = try await fma(["health", "\(server.unixAddress)"])
            #expect(unix.termination.exitCode == 0, "\(unix.stderr)")
            #expect(unix.stdout.hasPrefix("SERVING component=fma-demo"))
            let tcp = try await fma(["health", "\(server.tcpAddress)"], token: server.tokenValue)
            #expect(tcp.termination.exitCode == 0, "\(tcp.stderr)")
            let missing = try await fma(["health", "\(server.tcpAddress)"])
            #expect(missing.termination.exitCode == 2)
            #expect(missing.stderr.contains("UNAUTHENTICATED"))
            let echo = try await fma(["echo", "\(server.unixAddress)", "from Python"])
            #expect(echo.stdout.contains("from Python"))
            let count = try await fma(["count", "\(server.unixAddress)", "3"])
            #expect(count.stdout.split(separator: "\n").prefix(3) == ["0", "1", "2"])
        }
    }
}
