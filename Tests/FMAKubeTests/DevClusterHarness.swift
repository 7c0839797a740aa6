import FMADevCluster
import FMAKube
import FMATestSupport
import Foundation
import Logging

/// Runs an in-process fma-devcluster (real HTTPS, its own CA and token) for `body`, with a
/// client configured from the kubeconfig it wrote: every test goes through TLS, CA trust and
/// the bearer token as a real cluster would.
func withDevCluster<T: Sendable>(
    historyLimit: Int? = nil,
    clientOptions: KubeClient.Options = KubeClient.Options(),
    _ body: @Sendable (DevCluster, KubeClient) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { directory in
    var configuration = DevCluster.Configuration(stateDirectory: directory + "/cluster")
    if let historyLimit { configuration.historyLimit = historyLimit }
    let cluster = try DevCluster(configuration: configuration, logger: Logger(label: "test.devcluster"))
    let endpoints = try await cluster.start()
    return try await withRunningServices(cluster.services) { _ in
        let config = try KubeConfig.load(kubeconfig: endpoints.kubeconfigPath)
        let client = KubeClient(config: config, options: clientOptions)
        do {
            let result = try await body(cluster, client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
    }
}
