import ArgumentParser
import FMAAPI
import FMACommand

/// `fma-demo`: the demo service (health, echo, a counting stream) on any mix of addresses.
@main
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fma-demo",
        abstract: "Serve fma's demo service: fma.v1.Health, fma.v1.Demo/Echo and the fma.v1.Demo/Count stream.",
        discussion: """
            A small server that speaks fma's wire protocol (docs/wire-protocol.md), for trying the \
            clients and for tests. Calls on TCP need the bearer token; calls on a Unix socket do not.

            Examples:
              fma-demo --listen unix:/tmp/fma-demo.sock
              FMA_TOKEN=s3cret fma-demo --listen unix:/tmp/fma-demo.sock --listen tcp://127.0.0.1:0 --ready-file /tmp/ready
              fmactl health unix:/tmp/fma-demo.sock

            SIGTERM or SIGINT drains calls in flight, then exits 0.
            """,
        version: FMAVersion.current)

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let logger = try LogSetup.bootstrap(component: "fma-demo", level: server.logLevel)
        try await ServerRunner.run(component: "fma-demo", services: [DemoService()], options: server, logger: logger)
    }
}
