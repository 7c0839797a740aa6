import ArgumentParser
import FMAAPI

/// `fma-devcluster`: one machine made to look like a small Kubernetes cluster.
@main
struct DevClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fma-devcluster",
        abstract: "A one-machine Kubernetes cluster for development, tests and demos: an HTTPS API server and simulated nodes.",
        discussion: """
            `fma-devcluster serve --state-dir DIR` starts the API server (and the node simulator) and \
            writes DIR/kubeconfig; then `export KUBECONFIG=DIR/kubeconfig` and use kubectl or fma's own \
            tools. `fma-devcluster serve --help` lists every option.
            """,
        version: FMAVersion.current,
        subcommands: [ServeCommand.self],
        defaultSubcommand: ServeCommand.self)
}
