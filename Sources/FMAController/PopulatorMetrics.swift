import NIOConcurrencyHelpers
public import Prometheus

/// The populator's metrics: FMA's `fma_launcher_pod_count{lcfg_name, phase}` (launcher Pods
/// per LauncherConfig by phase, all five phases published, zeros included, while the config
/// exists or any of its launchers does; gone once neither does), plus fma's own counters of
/// the launchers it created and deleted.
public final class PopulatorMetrics: Sendable {
    private struct Tally {
        private var byNode: [String: [LauncherPhase: Int]] = [:]
        /// The sum over `byNode`, kept as nodes change (not recounted on every update).
        private(set) var totals: [LauncherPhase: Int] = [:]
        var configExists = false
        var total: Int { totals.values.reduce(0, +) }

        mutating func set(node: String, _ counts: [LauncherPhase: Int]) {
            for (phase, count) in byNode[node] ?? [:] { totals[phase, default: 0] -= count }
            for (phase, count) in counts { totals[phase, default: 0] += count }
            byNode[node] = counts.isEmpty ? nil : counts
        }
    }

    let registry: PrometheusCollectorRegistry
    private let tallies = NIOLockedValueBox<[String: Tally]>([:])

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    private static var podCount: MetricNameDescriptor { MetricNameDescriptor(metricName: "fma_launcher_pod_count", unitName: "",
                                                       helpText: "Launcher Pods per LauncherConfig by phase (bound, stale, unbound, stuck_starting, stuck_scheduling).") }

    /// The launchers of one (node, config) pair, by phase.
    func launchers(config: String, node: String, counts: [LauncherPhase: Int], configExists: Bool) {
        update(config) { tally in
            tally.set(node: node, counts)
            tally.configExists = configExists
        }
    }

    func configExists(_ config: String) {
        update(config) { $0.configExists = true }
    }

    func configGone(_ config: String) {
        update(config) { $0.configExists = false }
    }

    func launcherCreated(config: String) {
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "fma_populator_launchers_created_total", unitName: "", helpText: "Launcher Pods the populator created."),
                             labels: [("lcfg_name", config)]).increment()
    }

    func launcherDeleted(config: String) {
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "fma_populator_launchers_deleted_total", unitName: "", helpText: "Launcher Pods the populator deleted."),
                             labels: [("lcfg_name", config)]).increment()
    }

    /// Changes a config's tally and publishes (or removes) its five series under the lock, so
    /// two pairs of one config never publish out of order.
    private func update(_ config: String, _ change: (inout Tally) -> Void) {
        tallies.withLockedValue { tallies in
            var tally = tallies[config] ?? Tally()
            change(&tally)
            let visible = tally.configExists || tally.total > 0
            tallies[config] = visible ? tally : nil
            for phase in LauncherPhase.allCases {
                let gauge = registry.makeGauge(descriptor: Self.podCount, labels: [("lcfg_name", config), ("phase", phase.rawValue)])
                if visible {
                    gauge.set(Double(tally.totals[phase] ?? 0))
                } else {
                    registry.unregisterGauge(gauge)
                }
            }
        }
    }
}
