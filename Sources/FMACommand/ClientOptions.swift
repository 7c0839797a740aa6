public import ArgumentParser
public import FMARPC
import Foundation

/// The options every client command takes.
public struct ClientOptions: ParsableArguments {
    public enum Output: String, ExpressibleByArgument, Sendable { case text, json }

    @Option(name: .customLong("token-file"),
            help: ArgumentHelp("A file holding the server's bearer token (default: FMA_TOKEN). Needed on TCP.", valueName: "file"))
    public var tokenFile: String?

    @Option(help: "Seconds to wait for the answer.")
    public var timeout = Seconds(10)

    @Option(name: [.customShort("o"), .customLong("output")], help: "text or json.")
    public var output: Output = .text

    public init() {}

    public var timeoutDuration: Duration { timeout.duration }

    public func makeClient(address: String) throws -> RPCClient {
        let parsed: RPCAddress
        do { parsed = try RPCAddress(parsing: address) } catch { throw ValidationError("\(error)") }
        var configuration = RPCClient.Configuration(address: parsed, token: try TokenSource.load(file: tokenFile))
        configuration.connectTimeout = timeoutDuration
        return RPCClient(configuration: configuration)
    }
}

/// A failed call: prints `fmactl: CODE: message` on standard error; exit status 2.
public enum CallFailure {
    public static func exit(_ error: RPCError, command: String = "fmactl") -> ExitCode {
        FileHandle.standardError.write(Data("\(command): \(error.code.name): \(error.message)\n".utf8))
        return ExitCode(2)
    }
}
