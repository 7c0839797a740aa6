/// What one populator reconcile is about.
enum PopulatorKey: Hashable, Sendable, CustomStringConvertible {
    /// One node and one LauncherConfig.
    struct Pair: Hashable, Sendable {
        var node: String
        var config: String
    }

    /// The launchers of one config on one node.
    case launchers(Pair)
    /// The status of a LauncherConfig (`observedGeneration`, template errors).
    case configStatus(String)
    /// The status of a LauncherPopulationPolicy (`observedGeneration`, selector and reference errors).
    case policyStatus(String)

    var description: String {
        switch self {
        case .launchers(let pair): "launchers \(pair.node)/\(pair.config)"
        case .configStatus(let name): "launcherconfig \(name)"
        case .policyStatus(let name): "launcherpopulationpolicy \(name)"
        }
    }
}
