import FMAKubeModel

/// Kinds a real cluster usually serves through an add-on and fma-devcluster does not. Discovery
/// lists them (read-only), so that kubectl gets as far as asking for them, and every request
/// for one is answered 503 ServiceUnavailable, as a cluster whose add-on is down answers, with
/// what to do instead.
enum UnservedKinds {
    static let nodeMetrics = ResourceKind(group: "metrics.k8s.io", version: "v1beta1", kind: "NodeMetrics", plural: "nodes", namespaced: false)
    static let podMetrics = ResourceKind(group: "metrics.k8s.io", version: "v1beta1", kind: "PodMetrics", plural: "pods", namespaced: true)

    /// Why each is not served and what to do instead.
    static let reasons: [ResourceKind: String] = {
        let metrics = """
            fma-devcluster runs no metrics server, so kubectl top has nothing to show: a simulated \
            container uses no CPU or memory, and a real one is a process on this machine (its \
            environment has POD_NAME and NAMESPACE); see its use with ps or top here, and the \
            components' own Prometheus metrics at their /metrics
            """
        return [nodeMetrics: metrics, podMetrics: metrics]
    }()

    static var all: [ResourceKind] { [nodeMetrics, podMetrics] }

    /// The 503 for a request about `kind`, if it is not served.
    static func refusal(_ kind: ResourceKind) -> KubeStatus? {
        reasons[kind].map { KubeStatus(code: 503, reason: .serviceUnavailable, message: "\(kind.description) is not served: \($0)") }
    }
}
