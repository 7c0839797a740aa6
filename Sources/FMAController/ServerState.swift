import Foundation

/// How a requester was served.
public enum ActuationPath: String, Sendable, Hashable {
    /// A sleeping instance was woken.
    case hot
    /// A new instance in an existing launcher.
    case warm
    /// A new launcher first.
    case cold
}

/// What the controller remembers of one inference server (keyed by the requester's UID). All of
/// it is soft: after a restart it is rebuilt from Pod metadata and the launchers.
struct ServerState: Sendable {
    var requesterName: String
    /// The requester's GPUs, once asked.
    var gpuUUIDs: [String]?
    /// When the GPUs became known: the start of the controller's part of an actuation.
    var gpusKnownAt: ContinuousClock.Instant?
    /// The provider Pod this server is bound to (or was created for).
    var providerName: String?
    /// A launcher Pod created for this server that the cache may not show yet.
    var pendingProvider: (name: String, since: ContinuousClock.Instant)?
    /// The instance committed at bind time (launcher mode).
    var instance: DesiredInstance?
    /// Direct mode: the provider made from the requester, for the GPU indices it was made for.
    var nominal: NominalProvider?
    var nominalIndices: [Int]?
    var instanceKnownToExist = false
    var labelsApplied = false
    /// Whether the instance sleeps; nil when unknown.
    var sleeping: Bool?
    /// The last readiness relayed to (or seen on) the requester.
    var readinessRelayed: Bool?
    var neededNewLauncher = false
    var neededNewInstance = false
    var instancesDeleted: Set<String> = []
    var requesterDeleteRequested = false
    /// The verifying completion passed for the current wake.
    var verified = false
    var verifyFailures = 0
    /// Retries while the instance's server starts, and since when it has not been ready.
    var startPolls = 0
    var notReadySince: ContinuousClock.Instant?
    var dualityAsserted = false
    /// Where the time of the current actuation went, for the log and `fma-bench controller`:
    /// fma RPC calls to the launcher; a new launcher Pod's start until its instances are known
    /// and the Pod is Ready;
    /// a new or woken instance's server until it answers and passes the verifying completion.
    var launcherCallSeconds = 0.0
    var launcherStartSeconds = 0.0
    var instanceSeconds = 0.0
    var launcherCreatedAt: ContinuousClock.Instant?
    /// Since when the instance serves while its launcher Pod is not Ready yet (a cold start
    /// waiting for the kubelet's probe): counted into the launcher's start.
    var launcherPodNotReadySince: ContinuousClock.Instant?
    var instanceStartedAt: ContinuousClock.Instant?
    var actuationReported = false

    init(requesterName: String) {
        self.requesterName = requesterName
    }

    var path: ActuationPath {
        neededNewLauncher ? .cold : (neededNewInstance ? .warm : .hot)
    }
}
