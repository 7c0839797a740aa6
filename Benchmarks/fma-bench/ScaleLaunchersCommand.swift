import ArgumentParser
import FMARPC
import Foundation
import Logging

/// `fma-bench scale-launchers`: the launchers of some of `fma-bench scale`'s hollow nodes.
/// It listens on every launcher address of its nodes before any launcher Pod exists (the hollow
/// kubelet gives a launcher Pod one of them), and on each instance's port as it is made.
/// Separate processes, each for a range of nodes, because the descriptors of thousands of
/// launchers, their connections and their instances do not fit one process's limit.
struct ScaleLaunchersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale-launchers",
        abstract: "Serve fma.v1.Launcher for the hollow nodes of `fma-bench scale` (started by it).",
        shouldDisplay: false)

    @Option(help: "The first hollow node served (1-based).")
    var firstNode: Int

    @Option(help: "The last hollow node served.")
    var lastNode: Int

    @Option(help: "GPUs per node (a node has one launcher address per GPU, and one more).")
    var gpusPerNode: Int

    @Option(help: "A file holding the bearer token the controller sends.")
    var tokenFile: String

    @Option(help: "Written once every launcher address listens.")
    var readyFile: String

    func run() async throws {
        guard let token = BearerToken(try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ValidationError("\(tokenFile) holds no usable token")
        }
        try await withThrowingDiscardingTaskGroup { group in
            var servers: [RPCServer] = []
            let layout = ScaleLayout(nodes: lastNode, gpusPerNode: gpusPerNode)
            for node in firstNode...lastNode {
                for slot in layout.launcherSlots {
                    let host = ScaleLayout.address(node: node, slot: slot)
                    var router = RPCRouter()
                    router.add(SimulatedLauncherService(launcher: SimulatedLauncher(host: host)))
                    var configuration = RPCServer.Configuration(listen: [.tcp(host: host, port: ScaleLayout.launcherPort)], token: token)
                    configuration.drainTimeout = .seconds(1)
                    let server = RPCServer(configuration: configuration, router: router, logger: .silent)
                    servers.append(server)
                    group.addTask { try await server.run() }
                }
            }
            for server in servers { _ = try await server.boundAddresses() }
            try "ready\n".write(toFile: readyFile, atomically: true, encoding: .utf8)
        }
    }
}
