import FMADevCluster
import FMAKube
import FMATestSupport

/// Runs an in-process fma-devcluster for `body`, with a client configured from the kubeconfig
/// it wrote: every test goes through TLS, CA trust and the bearer token as a real cluster would.
func withDevCluster<T: Sendable>(
    historyLimit: Int? = nil,
    clientOptions: KubeClient.Options = KubeClient.Options(),
    _ body: @Sendable (DevCluster, KubeClient) async throws -> T
) async throws -> T {
    try await withRunningDevCluster(configure: { if let historyLimit { $0.historyLimit = historyLimit } }) { cluster, endpoints in
        let client = KubeClient(config: try KubeConfig.load(kubeconfig: endpoints.kubeconfigPath), options: clientOptions)
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
