import ArgumentParser
import FMAAPI

/// `fma-gpu-inventory`: a node's GPUs (node mode, the default) or the stub in a
/// server-requesting Pod (`fma-gpu-inventory requester`).
@main
struct GPUInventoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fma-gpu-inventory",
        abstract: "Serve a node's GPUs (fma.v1.GPUInventory), or run the requester stub (fma.v1.Requester and FMA's HTTP SPI).",
        discussion: """
            Node mode, the default subcommand (`fma-gpu-inventory node --help` lists its options), \
            enumerates the node's GPUs through NVML, loaded at run time, or simulates them with \
            --mock N or --mock-file FILE. Requester mode runs inside each server-requesting Pod.
            """,
        version: FMAVersion.current,
        subcommands: [NodeCommand.self, RequesterCommand.self],
        defaultSubcommand: NodeCommand.self)

    /// Node mode listens on `NodeCommand.defaultListen` when no `--listen` is given.
    static func main() async {
        await main(NodeCommand.withDefaultListen(Array(CommandLine.arguments.dropFirst())))
    }
}

/// Exit statuses beyond ArgumentParser's 0 (success), 1 (failure) and 64 (bad usage).
enum ExitStatus {
    /// Node mode without a mock on a machine where NVML cannot be loaded or initialized.
    static let nvmlUnavailable: Int32 = 69
    /// Requester mode: the SPI port cannot be bound (as FMA's requester).
    static let spiListenFailed: Int32 = 10
    /// Requester mode: the probes port cannot be bound (as FMA's requester).
    static let probesListenFailed: Int32 = 11
}
