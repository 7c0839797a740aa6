import ArgumentParser
import FMAAPI
import FMACommand
import FMARPC
import FMAWire
import Foundation

/// `fmactl health ADDRESS`: is the server there and serving?
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask a server whether it is serving (fma.v1.Health/Check).",
        discussion: """
            Prints the status, the component, its version, uptime and services. Exits 0 when \
            SERVING, 1 otherwise, 2 when the call fails.

            Examples:
              fmactl health unix:/tmp/fma-demo.sock
              fmactl health tcp://127.0.0.1:7070 --token-file ~/.fma/token -o json
            """)

    @Argument(help: "The server: unix:PATH or tcp://HOST:PORT.")
    var address: String

    @Option(help: "Ask about one service (e.g. fma.v1.Demo) instead of the whole server.")
    var service: String = ""

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let rpc = try client.makeClient(address: address)
        defer { Task { await rpc.close() } }
        let response: Fma_V1_HealthCheckResponse
        do {
            response = try await HealthClient(rpc).check(service: service, timeout: client.timeoutDuration)
        } catch {
            throw CallFailure.exit(error)
        }
        switch client.output {
        case .json:
            print(try response.jsonString())
        case .text:
            let limit = response.maxFrameBytes > 0 ? " max_frame_bytes=\(response.maxFrameBytes)" : ""
            print("\(response.status.name) component=\(response.component) version=\(response.version) uptime_ms=\(response.uptimeMs) services=\(response.services.joined(separator: ","))\(limit)")
            if !response.message.isEmpty { print("message: \(response.message)") }
        }
        if response.status != .serving { throw ExitCode(1) }
    }
}

extension Fma_V1_HealthCheckResponse.ServingStatus {
    var name: String {
        switch self {
        case .unknown: return "UNKNOWN"
        case .serving: return "SERVING"
        case .notServing: return "NOT_SERVING"
        case .draining: return "DRAINING"
        case .UNRECOGNIZED(let value): return "STATUS_\(value)"
        }
    }
}
