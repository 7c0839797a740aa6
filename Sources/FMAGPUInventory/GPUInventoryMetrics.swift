import Metrics

/// The node inventory's metrics: `fma_gpu_samples_total{source}` (every read of the devices),
/// `fma_gpu_sample_errors_total{source}`, `fma_gpu_watchers` (open WatchDevices streams) and
/// `fma_gpu_devices`. Labels are bounded: the source is nvml, mock or mock-file.
struct GPUInventoryMetrics: Sendable {
    private let samples: Counter
    private let sampleErrors: Counter
    private let watchers = Gauge(label: "fma_gpu_watchers")
    private let devices = Gauge(label: "fma_gpu_devices")

    init(source: String) {
        samples = Counter(label: "fma_gpu_samples_total", dimensions: [("source", source)])
        sampleErrors = Counter(label: "fma_gpu_sample_errors_total", dimensions: [("source", source)])
    }

    func sampled(devices count: Int) {
        samples.increment()
        devices.record(count)
    }

    func sampleFailed() { sampleErrors.increment() }

    func watching(_ count: Int) { watchers.record(count) }
}
