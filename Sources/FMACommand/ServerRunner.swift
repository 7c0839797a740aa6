public import FMARPC
import FMAAPI
public import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Runs a server process: metrics, the RPC server with Health added, SIGTERM/SIGINT draining.
public enum ServerRunner {
    /// Serves `services` (plus `fma.v1.Health`) as `component` until SIGTERM or SIGINT, then
    /// drains and returns, so the process exits 0.
    public static func run(component: String, services: [any RPCService], options: ServerOptions, logger: Logger) async throws {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        var configuration = try options.configuration()
        var lifecycle: [any Service] = []
        if let metricsListen = options.metricsListen {
            let metrics = MetricsServer(address: try RPCAddress(parsing: metricsListen), logger: logger) {
                var bytes: [UInt8] = []
                registry.emit(into: &bytes)
                return String(decoding: bytes, as: UTF8.self)
            }
            configuration.readyFileExtraLines.append(try await metrics.bind())
            lifecycle.append(metrics)
        }
        var router = RPCRouter(services: services)
        router.add(HealthService(component: component, services: router.serviceNames))
        let server = RPCServer(configuration: configuration, router: router, logger: logger)
        lifecycle.insert(server, at: 0)

        let group = ServiceGroup(configuration: .init(
            services: lifecycle.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
