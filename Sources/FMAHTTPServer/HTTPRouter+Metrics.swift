extension HTTPRouter {
    /// The Prometheus text exposition format's content type.
    public static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Serves `GET path` (default `/metrics`) with what `render` returns, in Prometheus's text
    /// format (e.g. a `PrometheusCollectorRegistry`'s `emitToString()`).
    public mutating func addMetrics(path: String = "/metrics", render: @escaping @Sendable () -> String) {
        add(.GET, path) { _ in
            .text(render(), headers: ["Content-Type": Self.prometheusContentType])
        }
    }
}
