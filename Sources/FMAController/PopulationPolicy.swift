public import FMAKubeModel

/// A LauncherPopulationPolicy read once (per resourceVersion) for the populator: its node
/// predicate compiled (label selector, allocatable ranges as exact quantities) and its
/// launcher counts, with the errors that make it select no node.
public struct PopulationPolicy: Sendable {
    public let name: String
    public let resourceVersion: String
    public let generation: Int64
    /// LauncherConfig name → launchers wanted per selected node (the largest entry of that name).
    public let counts: [String: Int]
    /// nil when the selector or a range cannot be read (the policy then selects no node).
    let selector: LabelSelector?
    let ranges: [(resource: String, min: Quantity?, max: Quantity?)]
    /// What is wrong with the selector or the ranges, worded for the policy's status.
    public let selectorErrors: [String]

    public init(_ policy: LauncherPopulationPolicy) {
        name = policy.metadata.name
        resourceVersion = policy.metadata.resourceVersion
        generation = policy.metadata.generation
        let spec = policy.spec
        var counts: [String: Int] = [:]
        for entry in spec.countForLauncher where !entry.launcherConfigName.isEmpty {
            counts[entry.launcherConfigName] = max(counts[entry.launcherConfigName] ?? 0, max(0, entry.launcherCount))
        }
        self.counts = counts
        var errors: [String] = []
        var selector: LabelSelector?
        do {
            selector = try spec.enhancedNodeSelector.parsedLabelSelector()
        } catch {
            errors.append("spec.enhancedNodeSelector.labelSelector: \(error.message)")
        }
        var ranges: [(String, Quantity?, Quantity?)] = []
        for (resource, range) in spec.enhancedNodeSelector.allocatableResources.sorted(by: { $0.key < $1.key }) {
            func bound(_ name: String, _ text: String?) -> Quantity? {
                guard let text else { return nil }
                do { return try Quantity(text) } catch {
                    errors.append("spec.enhancedNodeSelector.allocatableResources[\(resource)].\(name): \(error)")
                    return nil
                }
            }
            let (min, max) = (bound("min", range.min), bound("max", range.max))
            if let min, let max, max < min {
                errors.append("spec.enhancedNodeSelector.allocatableResources[\(resource)]: min \(min) is more than max \(max), so no node can match")
            }
            ranges.append((resource, min, max))
        }
        self.ranges = ranges
        self.selector = errors.isEmpty ? selector : nil
        selectorErrors = errors
    }

    /// Whether the policy selects `node`: its labels match the selector and every range holds
    /// for `status.allocatable` (inclusive; a resource the node does not list fails the range).
    public func selects(_ node: Node) -> Bool {
        guard let selector, selector.matches(node.metadata.labels) else { return false }
        guard !ranges.isEmpty else { return true }
        let allocatable = node.status.allocatable
        for range in ranges {
            guard let text = allocatable[range.resource], let quantity = try? Quantity(text) else { return false }
            if let min = range.min, quantity < min { return false }
            if let max = range.max, max < quantity { return false }
        }
        return true
    }
}

/// What the populator aims at for one (node, LauncherConfig) pair.
public enum PopulationTarget: Sendable, Equatable {
    /// No policy selects the node and lists the config: unbound launchers go (orphan cleanup).
    case none
    /// A policy asks for launchers of a config that is missing or malformed: the populator
    /// neither creates nor deletes them (FMA's hands-off).
    case handsOff
    /// This many launchers, made from the config's current template.
    case count(Int, templateHash: String)

    /// The largest count over the policies that select `node` and list `config`; hands-off
    /// when some do but the config is not usable (`template` nil).
    public static func of(node: Node?, config: String, policies: some Sequence<PopulationPolicy>, templateHash: String?) -> PopulationTarget {
        guard let node else { return .none }
        var wanted: Int?
        for policy in policies {
            guard let count = policy.counts[config], policy.selects(node) else { continue }
            wanted = max(wanted ?? 0, count)
        }
        guard let wanted else { return .none }
        guard let templateHash else { return .handsOff }
        return .count(wanted, templateHash: templateHash)
    }
}
