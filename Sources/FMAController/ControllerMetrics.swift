import Foundation
import NIOConcurrencyHelpers
public import Prometheus

/// The dual-pods controller's metrics, with FMA's names, labels and buckets (so FMA's
/// dashboards work), plus fma's own (`fma_controller_*`).
public final class ControllerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let requesterCounts = NIOLockedValueBox<[String: Int]>([:])
    private let iscCounts = NIOLockedValueBox<[String: Int]>([:])

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    static let actuationBuckets: [Double] = [0, 1, 3, 5, 7.5, 10, 15, 30, 60, 120, 240, 480, 960, 1920]
    static let launcherCreateBuckets: [Double] = [0.001, 0.01, 0.1, 1, 2, 3, 4, 5]
    static let httpBuckets: [Double] = [0.001, 0.01, 0.1, 1, 2, 3, 5, 10, 30, 90, 270, 810]
    static let queueBuckets: [Double] = (0...6).map { pow(4, Double($0)) / 64 }
    /// Fine buckets for the controller's own part of an actuation (sub-second by design).
    static let overheadBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

    /// FMA's `fma_actuation_seconds`: requester container start → first readiness relayed.
    func actuation(seconds: Double, namespace: String, path: ActuationPath, instancesDeleted: Int, iscName: String) {
        registry.makeValueHistogram(descriptor: Self.descriptor("fma_actuation_seconds", "Requester container start to the first readiness relayed, by path (hot, warm, cold)."), labels: [
            ("exported_namespace", namespace), ("path", path.rawValue), ("instancesDeleted", String(instancesDeleted)), ("isc_name", iscName),
        ], buckets: Self.actuationBuckets).record(seconds)
    }

    /// Ours: the requester's GPUs known → readiness relayed, by path.
    func actuationOverhead(seconds: Double, path: ActuationPath) {
        registry.makeValueHistogram(descriptor: Self.descriptor("fma_controller_actuation_ready_seconds", "The requester's GPUs known to readiness relayed: the controller's part of an actuation, by path."), labels: [("path", path.rawValue)],
                                    buckets: Self.overheadBuckets).record(seconds)
    }

    func launcherCreate(seconds: Double, namespace: String, launcherConfig: String, success: Bool) {
        registry.makeValueHistogram(descriptor: Self.descriptor("fma_launcher_create_seconds", "Latency of the API call creating a launcher Pod."), labels: [
            ("exported_namespace", namespace), ("lcfg_name", launcherConfig), ("success", success ? "true" : "false"),
        ], buckets: Self.launcherCreateBuckets).record(seconds)
    }

    /// FMA's `fma_http_latency_seconds`; fma's RPC calls to launchers and requesters are
    /// observed here too, with method `RPC`.
    func call(purpose: String, method: String, namespace: String, iscName: String, statusCode: String, seconds: Double) {
        registry.makeValueHistogram(descriptor: Self.descriptor("fma_http_latency_seconds", "Latency of the controller's calls to launchers, instances and requesters (method RPC for fma's protocol)."), labels: [
            ("purpose", purpose), ("method", method), ("exported_namespace", namespace), ("isc_name", iscName), ("status_code", statusCode),
        ], buckets: Self.httpBuckets).record(seconds)
    }

    func requesterAdded(isc: String, delta: Int) {
        let value = requesterCounts.withLockedValue { counts -> Int in
            counts[isc, default: 0] += delta
            return counts[isc]!
        }
        registry.makeGauge(descriptor: Self.descriptor("fma_requester_count", "Server-requesting Pods per InferenceServerConfig."), labels: [("isc_name", isc)]).set(Double(value))
    }

    func iscAdded(launcherConfig: String, delta: Int) {
        guard !launcherConfig.isEmpty else { return }
        let value = iscCounts.withLockedValue { counts -> Int in
            counts[launcherConfig, default: 0] += delta
            return counts[launcherConfig]!
        }
        registry.makeGauge(descriptor: Self.descriptor("fma_isc_count", "InferenceServerConfigs per LauncherConfig."), labels: [("launcher_config_name", launcherConfig)]).set(Double(value))
    }

    /// FMA's `fma_duality`: 1 while a requester is bound to a launcher instance, one series per GPU.
    func duality(_ value: Double, namespace: String, requester: String, provider: String, instanceID: String, gpus: [String], node: String) {
        for uuid in gpus.isEmpty ? [""] : gpus {
            registry.makeGauge(descriptor: Self.descriptor("fma_duality", "1 while a requester is bound to a launcher instance, one series per GPU; 0 at the end of the server's life."), labels: [
                ("exported_namespace", namespace), ("requester_name", requester), ("exported_pod", provider),
                ("exported_container", DualPods.inferenceServerContainer), ("instance_id", instanceID), ("UUID", uuid), ("node", node),
            ]).set(value)
        }
    }

    func queueAdd(node: String, depth: Int) {
        registry.makeCounter(descriptor: Self.descriptor("fma_dpc_innerqueue_adds_total", "Keys added to the work queue, by node."), labels: [("node", node)]).increment()
        queueDepth(node: node, depth)
    }

    /// Keys of `node` added and not yet being processed.
    func queueDepth(node: String, _ depth: Int) {
        registry.makeGauge(descriptor: Self.descriptor("fma_dpc_innerqueue_depth", "Keys waiting in the work queue, by node."), labels: [("node", node)]).set(Double(depth))
    }

    func queueRetry(node: String) {
        registry.makeCounter(descriptor: Self.descriptor("fma_dpc_innerqueue_retries_total", "Retries scheduled, by node."), labels: [("node", node)]).increment()
    }

    func queueWait(node: String, seconds: Double, depth: Int) {
        queueDepth(node: node, depth)
        registry.makeValueHistogram(descriptor: Self.descriptor("fma_dpc_innerqueue_queue_duration_seconds", "Time from a key's add to the start of its processing, by node."), labels: [("node", node)], buckets: Self.queueBuckets).record(seconds)
        registry.makeValueHistogram(descriptor: Self.descriptor("fma_controller_queue_wait_seconds", "Time from a key's add to the start of its processing, all nodes together (finer buckets than fma_dpc_innerqueue_queue_duration_seconds)."), labels: [], buckets: Self.overheadBuckets).record(seconds)
    }

    /// FMA's per-node work duration (FMA's buckets), and ours over all nodes in fine buckets.
    func work(node: String, seconds: Double) {
        registry.makeValueHistogram(descriptor: Self.descriptor("fma_dpc_innerqueue_work_duration_seconds", "Time processing one key, by node."), labels: [("node", node)], buckets: Self.queueBuckets).record(seconds)
        registry.makeValueHistogram(descriptor: Self.descriptor("fma_controller_reconcile_seconds", "Time processing one key, all nodes together (finer buckets than fma_dpc_innerqueue_work_duration_seconds)."), labels: [], buckets: Self.overheadBuckets).record(seconds)
    }

    /// Ours: keys waiting in the work queue.
    func queueDepth(_ depth: Int) {
        registry.makeGauge(descriptor: Self.descriptor("fma_controller_queue_depth", "Keys waiting in the controller's work queue.")).set(Double(depth))
    }

    /// Ours: 1 while this replica leads.
    func leader(_ leading: Bool) {
        registry.makeGauge(descriptor: Self.descriptor("fma_controller_leader", "1 while this replica holds the leader Lease.")).set(leading ? 1.0 : 0.0)
    }

    /// Ours: reconciles by outcome.
    func reconciled(outcome: String) {
        registry.makeCounter(descriptor: Self.descriptor("fma_controller_reconciles_total", "Reconciles by outcome (done, retry, error)."), labels: [("outcome", outcome)]).increment()
    }
}
