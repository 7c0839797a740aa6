import FMAAPI
import Foundation
import Logging

/// The launcher's own readiness probe: `GET /health` on every running instance that has a
/// --port, kept in `Instance.ready` and announced by READY and NOT_READY events, so clients
/// need no HTTP polling of their own.
extension InstanceManager {
    /// Starts (or restarts) the probe of a running instance; nothing without a --port or when
    /// probing is off (`readyProbeInterval` zero).
    func startReadinessProbe(_ id: String) {
        guard configuration.readyProbeInterval > .zero, let record = instances[id],
              case .running = record.phase, record.pid > 0, record.spec.port != nil else { return }
        let pid = record.pid
        probes.removeValue(forKey: id)?.cancel()
        probes[id] = Task { await self.probe(id: id, pid: pid) }
    }

    func stopReadinessProbe(_ id: String) {
        probes.removeValue(forKey: id)?.cancel()
    }

    /// Probes until the instance (this process of it) stops running or the probe is cancelled.
    private func probe(id: String, pid: Int32) async {
        var schedule = ReadinessSchedule(readyInterval: configuration.readyProbeInterval)
        while !Task.isCancelled {
            guard let port = runningPort(id: id, pid: pid) else { return }
            let healthy = await admin.isHealthy(host: configuration.adminHost, port: port, timeout: configuration.readyProbeTimeout)
            guard !Task.isCancelled, runningPort(id: id, pid: pid) != nil, let record = instances[id] else { return }
            switch schedule.observe(healthy: healthy, ready: record.ready) {
            case .none: break
            case .ready: setReady(record, true)
            case .notReady: setReady(record, false)
            }
            try? await Task.sleep(for: schedule.delay)
        }
    }

    private func runningPort(id: String, pid: Int32) -> UInt32? {
        guard let record = instances[id], record.pid == pid, case .running = record.phase else { return nil }
        return record.spec.port
    }

    private func setReady(_ record: InstanceRecord, _ ready: Bool) {
        var record = record
        record.ready = ready
        // The first time: what the instance imported after the fork (most of it happens before
        // a server answers), for its record and the log.
        if ready, record.preloadGap == nil, record.spawnMode == "fork" {
            record.preloadGap = PreloadGapReport.read(forLog: record.logPath)
        }
        // Observed, not made: no revision (the REST API's revision, as FMA's, moves only with changes).
        announce(ready ? .ready : .notReady, record)
        if ready {
            var metadata: Logger.Metadata = ["instance": "\(record.spec.id)"]
            if let gap = record.preloadGap { metadata["imported_after_fork"] = "\(gap.summary)" }
            logger.info("instance ready", metadata: metadata)
        } else {
            logger.warning("instance stopped answering /health", metadata: [
                "instance": "\(record.spec.id)", "failures": "\(ReadinessSchedule.failuresToNotReady)",
            ])
        }
    }
}
