import FMAKubeModel
import NIOConcurrencyHelpers

/// Pods the controller has written whose new version the informer has not delivered yet. Reads
/// prefer these, so a decision made right after a write never acts on the older cached copy
/// (which would, say, bind a launcher twice or make a second one).
final class WrittenObjects: Sendable {
    private let pods = NIOLockedValueBox<[String: (pod: Pod, at: ContinuousClock.Instant)]>([:])
    /// How long an entry may wait for the informer before it is dropped anyway.
    static let patience: Duration = .seconds(30)

    func remember(_ pod: Pod) {
        pods.withLockedValue { $0[pod.key] = (pod, .now) }
    }

    /// The informer delivered `pod` (or its deletion): drop an entry it supersedes.
    func observed(_ pod: Pod, deleted: Bool) {
        pods.withLockedValue { pods in
            guard let entry = pods[pod.key] else { return }
            if deleted || entry.pod.metadata.resourceVersion == pod.metadata.resourceVersion
                || entry.pod.metadata.uid != pod.metadata.uid || ContinuousClock.now - entry.at > Self.patience {
                pods[pod.key] = nil
            }
        }
    }

    /// The written version of the Pod `key`, if it is still newer than the cache.
    func pod(_ key: String) -> Pod? {
        pods.withLockedValue { pods in
            guard let entry = pods[key] else { return nil }
            if ContinuousClock.now - entry.at > Self.patience {
                pods[key] = nil
                return nil
            }
            return entry.pod
        }
    }

    /// Every written Pod, for lookups the cache's indexes cannot answer for them.
    var all: [Pod] {
        pods.withLockedValue { $0.values.map(\.pod) }
    }
}
