import ArgumentParser
import FMAAPI

/// `fma-launcher`: runs vLLM instances forked from a preinitialized Python zygote.
@main
struct LauncherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fma-launcher",
        abstract: "Run vLLM instances forked from a preinitialized Python zygote, and control them over RPC.",
        discussion: """
            `fma-launcher serve` (the default) imports the server's modules once in a Python \
            zygote and forks each new instance from it: a warm start in milliseconds instead of \
            the seconds of imports. Instances outlive the launcher: a restarted launcher adopts \
            them from its journal. In a container run `fma-launcher supervise -- serve …` as PID 1.
            """,
        version: FMAVersion.current,
        subcommands: [ServeCommand.self, SuperviseCommand.self],
        defaultSubcommand: ServeCommand.self)
}
