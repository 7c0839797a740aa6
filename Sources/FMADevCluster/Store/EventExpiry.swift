import FMAJSON
import FMAKubeModel
public import Foundation
public import ServiceLifecycle

/// Deletes Events whose last occurrence is older than `ttl`, as a real API server lets them
/// expire (after an hour by default), and beyond that the oldest past `maxEvents`, so a
/// long-running cluster that churns through thousands of pods keeps a bounded number of Events.
/// The age sweep runs every `interval`; the count is checked every `countInterval` (a cheap
/// look), so a burst of Events is trimmed within seconds, not after the next sweep.
public struct EventExpiry: Service {
    let store: ObjectStore
    let ttl: Duration
    let maxEvents: Int
    let interval: Duration
    let countInterval: Duration

    public init(store: ObjectStore, ttl: Duration = .seconds(3600), maxEvents: Int = 10_000, interval: Duration = .seconds(60),
                countInterval: Duration = .seconds(2)) {
        self.store = store
        self.ttl = ttl
        self.maxEvents = max(1, maxEvents)
        self.interval = interval
        self.countInterval = min(countInterval, interval)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastSweep = ContinuousClock.now
            while !Task.isCancelled {
                do { try await Task.sleep(for: countInterval) } catch { return }
                if ContinuousClock.now - lastSweep >= interval || store.count(.event) > maxEvents {
                    expire(now: Date())
                    lastSweep = .now
                }
            }
        }
    }

    /// Deletes the Events last seen before `now - ttl`, then the oldest beyond `maxEvents`;
    /// returns how many.
    @discardableResult
    public func expire(now: Date) -> Int {
        guard let events = try? store.list(.event, namespace: nil).items else { return 0 }
        let cutoff = now.addingTimeInterval(-(Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18))
        // Oldest first (an Event without a time counts as oldest); the store lists in name order.
        let dated = events.map { event -> (JSONObject, Date) in
            let meta = ObjectMeta(json: event["metadata"]?.object ?? JSONObject())
            let last = event["lastTimestamp"]?.string ?? event["eventTime"]?.string ?? meta.creationTimestamp
            return (event, last.flatMap(KubeTime.date) ?? .distantPast)
        }.sorted { $0.1 < $1.1 }
        let excess = max(0, dated.count - maxEvents)
        var expired = 0
        for (index, (event, date)) in dated.enumerated() where index < excess || date < cutoff {
            let meta = ObjectMeta(json: event["metadata"]?.object ?? JSONObject())
            let precondition = DeleteOptions(preconditionResourceVersion: meta.resourceVersion)
            if (try? store.delete(.event, namespace: meta.namespace, name: meta.name, options: precondition)) != nil {
                expired += 1
            }
        }
        return expired
    }
}
