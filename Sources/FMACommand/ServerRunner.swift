public import FMARPC
import FMAAPI
public import Logging
import Metrics
public import Prometheus
public import ServiceLifecycle

/// Runs a server process: metrics, the RPC server with Health added, SIGTERM/SIGINT draining.
public enum ServerRunner {
    /// The process's Prometheus registry. Its first use bootstraps swift-metrics with it, once.
    private static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Bootstraps swift-metrics with Prometheus (once per process) and returns the registry.
    ///
    /// `run` calls it; call it yourself before making metrics that must be exported if they are
    /// made before `run` (a metric made before the bootstrap goes nowhere).
    @discardableResult
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry { registry }

    /// A metrics endpoint serving the process's registry at `listen` (`tcp://host:port`), bound:
    /// run the returned service in the process's `ServiceGroup`; the URL goes in its ready file.
    public static func bindMetrics(listen: String, logger: Logger) async throws -> (MetricsServer, url: String) {
        let registry = bootstrapMetrics()
        let metrics = MetricsServer(address: try RPCAddress(parsing: listen), logger: logger) {
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
        return (metrics, try await metrics.bind())
    }

    /// Serves `services` (plus `fma.v1.Health`) as `component` until SIGTERM or SIGINT, then
    /// drains and returns, so the process exits 0.
    ///
    /// `extraServices` (e.g. HTTP servers, bound beforehand) run in the same `ServiceGroup`, so
    /// they shut down on the same signal (before the RPC server). The ready file lists the RPC
    /// addresses, then `extraReadyLines`, then the metrics URL if `--metrics-listen` was given.
    /// While `healthProblem` returns a reason, Health answers NOT_SERVING with it.
    public static func run(component: String, services: [any RPCService], options: ServerOptions, logger: Logger,
                           extraServices: [any Service] = [], extraReadyLines: [String] = [],
                           healthProblem: (@Sendable () -> String?)? = nil) async throws {
        var configuration = try options.configuration()
        configuration.readyFileExtraLines.append(contentsOf: extraReadyLines)
        var lifecycle: [any Service] = []
        if let metricsListen = options.metricsListen {
            let (metrics, url) = try await bindMetrics(listen: metricsListen, logger: logger)
            configuration.readyFileExtraLines.append(url)
            lifecycle.append(metrics)
        }
        var router = RPCRouter(services: services)
        router.add(HealthService(component: component, services: router.serviceNames, problem: healthProblem,
                                 maxFrameBytes: configuration.maxFrameBytes))
        let server = RPCServer(configuration: configuration, router: router, logger: logger)
        lifecycle.insert(server, at: 0)
        lifecycle.append(contentsOf: extraServices)

        let group = ServiceGroup(configuration: .init(
            services: lifecycle.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
