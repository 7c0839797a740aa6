import FMARPC
import Foundation

/// The `fma-demo` executable running on a Unix socket and a TCP port, for integration tests.
public final class DemoServer: @unchecked Sendable {
    public let process: ChildProcess
    public let unixAddress: RPCAddress
    public let tcpAddress: RPCAddress
    public let token: BearerToken
    public let tokenValue: String
    public let tokenFile: String
    public let directory: String

    /// Starts the server and waits (bounded) for its ready file.
    public init(directory: String, extraArguments: [String] = [], token: String = "test-token-\(UUID().uuidString.prefix(8))") async throws {
        self.directory = directory
        tokenValue = token
        self.token = BearerToken(token)!
        tokenFile = directory + "/token"
        try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let readyFile = directory + "/ready"
        let socket = directory + "/demo.sock"
        process = try ChildProcess(binDirectory + "/fma-demo",
                                   ["--listen", "unix:\(socket)", "--listen", "tcp://127.0.0.1:0",
                                    "--token-file", tokenFile, "--ready-file", readyFile, "--log-level", "debug"] + extraArguments,
                                   directory: directory)
        let process = self.process
        try await waitUntil("the ready file of fma-demo") {
            if kill(process.pid, 0) != 0 { throw TestSupportError("fma-demo exited early: \(process.stderr)") }
            return FileManager.default.fileExists(atPath: readyFile)
        }
        let lines = try String(contentsOfFile: readyFile, encoding: .utf8).split(separator: "\n").map(String.init)
        unixAddress = try RPCAddress(parsing: lines[0])
        tcpAddress = try RPCAddress(parsing: lines[1])
    }

    /// A client on the Unix socket (no token needed).
    public func unixClient() -> RPCClient { RPCClient(address: unixAddress) }

    /// A client on TCP with the right token, or with `token` if given.
    public func tcpClient(token: BearerToken?? = .none) -> RPCClient {
        RPCClient(address: tcpAddress, token: token ?? self.token)
    }

    public func stop() { process.stop() }
}
