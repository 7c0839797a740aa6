import FMAJSON
import FMAKubeModel

/// What a pod asks of a node, read once from its spec: the scheduler's predicates work on this.
struct SchedulingRequirements: Sendable, Hashable {
    var nodeSelector: [String: String]
    /// Required node affinity: any term may match (OR); within a term, every requirement (AND).
    var affinityTerms: [NodeSelectorTerm]
    var tolerations: [Toleration]
    var gpus: Int

    init(pod: JSONObject) {
        let spec = PodSpec(json: pod["spec"]?.object ?? JSONObject())
        nodeSelector = spec.nodeSelector
        let terms = spec.affinity?[path: ["nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"]]?.array ?? []
        affinityTerms = terms.compactMap { $0.object.map(NodeSelectorTerm.init(json:)) }
        tolerations = spec.tolerations.compactMap { $0.object.map(Toleration.init(json:)) }
        gpus = Self.gpus(of: spec)
    }

    /// `nvidia.com/gpu` the pod needs: the sum over its containers (limits, else requests), or
    /// the largest init container's, whichever is more.
    static func gpus(of spec: PodSpec) -> Int {
        let regular = spec.containers.reduce(0) { $0 + gpus(of: $1) }
        let initial = spec.initContainers.map { gpus(of: $0) }.max() ?? 0
        return max(regular, initial)
    }

    static func gpus(of container: Container) -> Int {
        let resources = container.resources
        let text = resources.limits[SimulatedNode.gpuResource] ?? resources.requests[SimulatedNode.gpuResource] ?? "0"
        // More than any node has stays more (Pending) without overflowing the pod's sum.
        return min(max(0, Int(text) ?? 0), maxGPUs + 1)
    }

    /// The most GPUs a simulated node is taken to have; objects may say anything (a node's
    /// capacity and a container's limit are strings), and the kubelet counts GPUs one by one.
    static let maxGPUs = 1 << 16

    /// Why `node` cannot take the pod, or nil when it can; `freeGPUs` and `freePods` are what
    /// is left on it.
    func misfit(on node: NodeInfo, freeGPUs: Int, freePods: Int = .max) -> SchedulingFailure? {
        // kube-scheduler's filter order: the first failing one names the reason.
        if node.unschedulable { return .unschedulable }
        for taint in node.taints where taint.effect == "NoSchedule" || taint.effect == "NoExecute" {
            if !tolerations.contains(where: { $0.tolerates(taint) }) {
                return .untoleratedTaint(key: taint.key, value: taint.value)
            }
        }
        for (key, value) in nodeSelector where node.labels[key] != value {
            return .affinityMismatch
        }
        if !affinityTerms.isEmpty, !affinityTerms.contains(where: { $0.matches(node) }) {
            return .affinityMismatch
        }
        // NodeResourcesFit: the pod count first, then each resource.
        if freePods < 1 { return .tooManyPods }
        if gpus > freeGPUs { return .insufficientGPUs }
        return nil
    }
}

/// One reason a node was rejected, as kube-scheduler words it in FailedScheduling.
enum SchedulingFailure: Sendable, Hashable {
    case unschedulable
    case affinityMismatch
    case untoleratedTaint(key: String, value: String?)
    case insufficientGPUs
    case tooManyPods

    var text: String {
        switch self {
        case .unschedulable: "node(s) were unschedulable"
        case .affinityMismatch: "node(s) didn't match Pod's node affinity/selector"
        case .untoleratedTaint(let key, let value): "node(s) had untolerated taint {\(key): \(value ?? "")}"
        case .insufficientGPUs: "Insufficient \(SimulatedNode.gpuResource)"
        case .tooManyPods: "Too many pods"
        }
    }

    /// `0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) were unschedulable.`
    static func message(nodeCount: Int, failures: [SchedulingFailure: Int]) -> String {
        guard !failures.isEmpty else { return "0/\(nodeCount) nodes are available: no nodes available to schedule pods." }
        let parts = failures.map { "\($0.value) \($0.key.text)" }.sorted()
        return "0/\(nodeCount) nodes are available: \(parts.joined(separator: ", "))."
    }
}

/// What the scheduler knows of a node.
struct NodeInfo: Sendable, Hashable {
    var name: String
    var labels: [String: String]
    var taints: [Taint]
    var unschedulable: Bool
    var gpuCapacity: Int
    /// Allocatable `pods`: how many pods may be bound to it. A node that reports none is not
    /// limited (a node made by hand without a status).
    var podCapacity: Int

    init(json: JSONObject) {
        let node = Node(json: json)
        name = node.metadata.name
        labels = node.metadata.labels
        taints = node.spec.taints
        unschedulable = node.spec.unschedulable
        let status = node.status
        let capacity = Int(status.allocatable[SimulatedNode.gpuResource] ?? status.capacity[SimulatedNode.gpuResource] ?? "0") ?? 0
        gpuCapacity = min(max(0, capacity), SchedulingRequirements.maxGPUs)
        podCapacity = (status.allocatable["pods"] ?? status.capacity["pods"]).map { max(0, Int($0) ?? 0) } ?? .max
    }
}

/// A `nodeSelectorTerms` entry: `matchExpressions` on labels and `matchFields` on
/// `metadata.name`, all of which must hold.
struct NodeSelectorTerm: Sendable, Hashable {
    struct Requirement: Sendable, Hashable {
        var key: String
        var op: String
        var values: [String]

        init(json: JSONObject) {
            key = json["key"]?.string ?? ""
            op = json["operator"]?.string ?? ""
            values = json["values"]?.array?.compactMap(\.string) ?? []
        }

        func matches(_ value: String?) -> Bool {
            switch op {
            case "In": return value.map(values.contains) ?? false
            case "NotIn": return value.map { !values.contains($0) } ?? true
            case "Exists": return value != nil
            case "DoesNotExist": return value == nil
            case "Gt", "Lt":
                guard let value, let number = Int64(value), let bound = values.first.flatMap({ Int64($0) }) else { return false }
                return op == "Gt" ? number > bound : number < bound
            default: return false
            }
        }
    }

    var expressions: [Requirement]
    var fields: [Requirement]

    init(json: JSONObject) {
        expressions = json["matchExpressions"]?.array?.compactMap { $0.object.map(Requirement.init(json:)) } ?? []
        fields = json["matchFields"]?.array?.compactMap { $0.object.map(Requirement.init(json:)) } ?? []
    }

    func matches(_ node: NodeInfo) -> Bool {
        // An empty term matches no node, as in Kubernetes.
        guard !expressions.isEmpty || !fields.isEmpty else { return false }
        return expressions.allSatisfy { $0.matches(node.labels[$0.key]) }
            && fields.allSatisfy { $0.key == "metadata.name" ? $0.matches(node.name) : false }
    }
}

/// A pod's toleration of node taints.
struct Toleration: Sendable, Hashable {
    var key: String
    var op: String
    var value: String
    var effect: String

    init(json: JSONObject) {
        key = json["key"]?.string ?? ""
        op = json["operator"]?.string ?? "Equal"
        value = json["value"]?.string ?? ""
        effect = json["effect"]?.string ?? ""
    }

    func tolerates(_ taint: Taint) -> Bool {
        if !effect.isEmpty, effect != taint.effect { return false }
        if key.isEmpty { return op == "Exists" }
        guard key == taint.key else { return false }
        return op == "Exists" || value == (taint.value ?? "")
    }
}
