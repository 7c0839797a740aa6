import FMAKubeModel
import NIOConcurrencyHelpers

/// Pods the controller has written whose new version the informer has not delivered yet. Reads
/// prefer these, so a decision made right after a write never acts on the older cached copy
/// (which would, say, bind a launcher twice or make a second one).
///
/// The informer may deliver a write before the write's answer arrives; the versions it delivered
/// lately are remembered per Pod so such an answer is not kept as if it were newer.
final class WrittenObjects: Sendable {
    private struct State {
        var pods: [String: (pod: Pod, at: ContinuousClock.Instant)] = [:]
        /// The resourceVersions the informer delivered lately, per Pod key.
        var delivered: [String: [String]] = [:]
        /// The UIDs of Pods the informer saw deleted (a write answered after the deletion was
        /// delivered must not bring the Pod back), oldest first.
        var deletedUIDs: Set<String> = []
        var deletedOrder: [String] = []
    }

    private let state = NIOLockedValueBox(State())
    /// How long an entry may wait for the informer before it is dropped anyway.
    static let patience: Duration = .seconds(30)
    static let deliveredKept = 16
    static let deletedKept = 4096

    func remember(_ pod: Pod) {
        state.withLockedValue { state in
            if state.delivered[pod.key]?.contains(pod.metadata.resourceVersion) == true { return }
            if state.deletedUIDs.contains(pod.metadata.uid) { return }
            state.pods[pod.key] = (pod, .now)
        }
    }

    /// The informer delivered `pod` (or its deletion): drop an entry it supersedes.
    func observed(_ pod: Pod, deleted: Bool) {
        state.withLockedValue { state in
            let key = pod.key
            if deleted {
                state.delivered[key] = nil
                state.pods[key] = nil
                if state.deletedUIDs.insert(pod.metadata.uid).inserted {
                    state.deletedOrder.append(pod.metadata.uid)
                    if state.deletedOrder.count > Self.deletedKept {
                        state.deletedUIDs.remove(state.deletedOrder.removeFirst())
                    }
                }
                return
            }
            var versions = state.delivered[key] ?? []
            versions.append(pod.metadata.resourceVersion)
            if versions.count > Self.deliveredKept { versions.removeFirst(versions.count - Self.deliveredKept) }
            state.delivered[key] = versions
            guard let entry = state.pods[key] else { return }
            if entry.pod.metadata.resourceVersion == pod.metadata.resourceVersion || entry.pod.metadata.uid != pod.metadata.uid
                || ContinuousClock.now - entry.at > Self.patience {
                state.pods[key] = nil
            }
        }
    }

    /// The written version of the Pod `key`, if it is still newer than the cache.
    func pod(_ key: String) -> Pod? {
        state.withLockedValue { state in
            guard let entry = state.pods[key] else { return nil }
            guard ContinuousClock.now - entry.at <= Self.patience else {
                state.pods[key] = nil
                return nil
            }
            return entry.pod
        }
    }

    /// Every written Pod still waiting for the informer, for lookups the cache's indexes cannot
    /// answer for them.
    var all: [Pod] {
        state.withLockedValue { state in
            let now = ContinuousClock.now
            state.pods = state.pods.filter { now - $0.value.at <= Self.patience }
            return state.pods.values.map(\.pod)
        }
    }
}
