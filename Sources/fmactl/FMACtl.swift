import ArgumentParser
import FMAAPI

/// `fmactl`: the command line for every fma service.
@main
struct FMACtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fmactl",
        abstract: "Call fma's services from the command line.",
        discussion: """
            ADDRESS is unix:PATH or tcp://HOST:PORT. Calls on TCP need the server's bearer \
            token: --token-file FILE, or the FMA_TOKEN environment variable.

            Exit status: 0 on success, 1 when the answer is negative (e.g. not SERVING), 2 when \
            the call failed (the server's status code and message are printed), 64 on bad usage.
            """,
        version: FMAVersion.current,
        subcommands: [HealthCommand.self, LauncherCommand.self, GPUsCommand.self, RequesterCommand.self, DualCommand.self])
}
