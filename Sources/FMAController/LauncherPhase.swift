public import FMAKubeModel
public import Foundation

/// The phase of a launcher Pod as the populator counts it (FMA's
/// `fma_launcher_pod_count{phase}`), and when an unbound one turns stuck.
public enum LauncherPhase: String, Sendable, CaseIterable {
    /// Bound to a requester (a valid `requester` annotation).
    case bound
    /// Made from another template than the config's current one.
    case stale
    /// Unbound and Ready, or not yet past a threshold.
    case unbound
    /// Scheduled, not Ready, for longer than the stuck-starting threshold.
    case stuckStarting = "stuck_starting"
    /// Not scheduled for longer than the stuck-scheduling threshold.
    case stuckScheduling = "stuck_scheduling"

    public var isStuck: Bool { self == .stuckStarting || self == .stuckScheduling }

    public struct Thresholds: Sendable {
        public var scheduling: Duration
        public var starting: Duration

        public init(scheduling: Duration = .seconds(120), starting: Duration = .seconds(450)) {
            self.scheduling = scheduling
            self.starting = starting
        }
    }

    /// The phase of `pod` at `now`, and the instant it would turn stuck if nothing changes
    /// (nil when it cannot: bound, stale, Ready or stuck already).
    public static func of(_ pod: Pod, templateHash: String, thresholds: Thresholds, now: Date) -> (phase: LauncherPhase, turnsStuckAt: Date?) {
        if Binding(pod) != nil { return (.bound, nil) }
        let hash = pod.metadata.annotation(DualPods.Annotation.launcherTemplateHash) ?? ""
        if templateHash.isEmpty || hash != templateHash { return (.stale, nil) }
        if pod.isReady { return (.unbound, nil) }
        if let scheduled = pod.status.condition("PodScheduled"), scheduled.isTrue {
            let since = scheduled.lastTransitionTime.flatMap(KubeTime.date) ?? pod.metadata.creationTimestamp.flatMap(KubeTime.date) ?? now
            return phase(since: since, after: thresholds.starting, now: now, stuck: .stuckStarting)
        }
        let created = pod.metadata.creationTimestamp.flatMap(KubeTime.date) ?? now
        return phase(since: created, after: thresholds.scheduling, now: now, stuck: .stuckScheduling)
    }

    private static func phase(since: Date, after threshold: Duration, now: Date, stuck: LauncherPhase) -> (LauncherPhase, Date?) {
        let at = since.addingTimeInterval(Double(threshold.components.seconds) + Double(threshold.components.attoseconds) / 1e18)
        return now >= at ? (stuck, nil) : (.unbound, at)
    }
}
