import FMAJSON
import FMAKubeModel
public import Foundation
public import ServiceLifecycle

/// Deletes Events whose last occurrence is older than `ttl`, as a real API server lets them
/// expire (after an hour by default), so a long-running cluster does not keep every Event.
public struct EventExpiry: Service {
    let store: ObjectStore
    let ttl: Duration
    let interval: Duration

    public init(store: ObjectStore, ttl: Duration = .seconds(3600), interval: Duration = .seconds(60)) {
        self.store = store
        self.ttl = ttl
        self.interval = interval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                expire(now: Date())
            }
        }
    }

    /// Deletes the Events last seen before `now - ttl`; returns how many.
    @discardableResult
    public func expire(now: Date) -> Int {
        guard let events = try? store.list(.event, namespace: nil).items else { return 0 }
        let cutoff = now.addingTimeInterval(-(Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18))
        var expired = 0
        for event in events {
            let meta = ObjectMeta(json: event["metadata"]?.object ?? JSONObject())
            let last = event["lastTimestamp"]?.string ?? event["eventTime"]?.string ?? meta.creationTimestamp
            guard let text = last, let date = KubeTime.date(text), date < cutoff else { continue }
            let precondition = DeleteOptions(preconditionResourceVersion: meta.resourceVersion)
            if (try? store.delete(.event, namespace: meta.namespace, name: meta.name, options: precondition)) != nil {
                expired += 1
            }
        }
        return expired
    }
}
