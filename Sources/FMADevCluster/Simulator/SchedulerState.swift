import FMAJSON
import FMAKubeModel

/// The scheduler's knowledge and decisions, without I/O: the nodes, the GPUs each node's
/// pods hold, and the pods waiting for a node. The `Scheduler` feeds it store events and
/// carries out the decisions it returns.
struct SchedulerState: Sendable {
    /// A pod waiting for a node.
    struct PendingPod: Sendable {
        var namespace: String
        var name: String
        var uid: String
        var requirements: SchedulingRequirements
        /// The FailedScheduling message last reported, so each distinct reason is reported once.
        var lastMessage: String?
    }

    /// What to do for one pod.
    enum Decision: Sendable, Equatable {
        case bind(namespace: String, name: String, uid: String, node: String)
        /// `message` is new for this pod (report it); unchanged reasons give no decision.
        case unschedulable(namespace: String, name: String, uid: String, message: String)
    }

    static let schedulerName = "default-scheduler"

    private(set) var nodes: [NodeInfo] = []
    private var nodePositions: [String: Int] = [:]
    private var gpusUsed: [String: Int] = [:]
    private var podsBound: [String: Int] = [:]
    /// pod uid → the node it holds GPUs on, and how many.
    private var placements: [String: (node: String, gpus: Int)] = [:]
    private var pending: [String: PendingPod] = [:]
    /// Pods never tried yet, in arrival order.
    private var fresh: [String] = []
    /// Pods that fit nowhere at their last try, in arrival order.
    private var waiting: [String] = []
    /// Set when capacity freed up or nodes changed, so waiting pods deserve another try.
    private(set) var retryNeeded = false
    private var cursor = 0

    var hasFreshPods: Bool { !fresh.isEmpty }
    var pendingCount: Int { pending.count }

    func gpusUsed(on node: String) -> Int { gpusUsed[node] ?? 0 }
    func podsBound(on node: String) -> Int { podsBound[node] ?? 0 }

    // MARK: Observations

    mutating func observe(node json: JSONObject, deleted: Bool) {
        let info = NodeInfo(json: json)
        if deleted {
            guard let position = nodePositions.removeValue(forKey: info.name) else { return }
            nodes.remove(at: position)
            for index in position..<nodes.count { nodePositions[nodes[index].name] = index }
        } else if let position = nodePositions[info.name] {
            guard nodes[position] != info else { return }
            nodes[position] = info
        } else {
            nodePositions[info.name] = nodes.count
            nodes.append(info)
        }
        retryNeeded = true
    }

    mutating func observe(pod json: JSONObject, deleted: Bool) {
        let meta = ObjectMeta(json: json["metadata"]?.object ?? JSONObject())
        let uid = meta.uid
        let nodeName = json[path: ["spec", "nodeName"]]?.string ?? ""
        let phase = json[path: ["status", "phase"]]?.string ?? ""
        if deleted || phase == "Succeeded" || phase == "Failed" {
            forget(uid)
            release(uid)
            return
        }
        if !nodeName.isEmpty {
            forget(uid)
            if placements[uid] == nil {
                let gpus = SchedulingRequirements.gpus(of: PodSpec(json: json["spec"]?.object ?? JSONObject()))
                place(uid, on: nodeName, gpus: gpus)
            }
            return
        }
        // Unbound, yet this scheduler has bound it: the event is older than the binding (the
        // watch delivers the scheduler's own writes after it acted on newer knowledge, e.g. the
        // MODIFIED of a PodScheduled=False it wrote before a node freed up). kube-scheduler
        // skips such "assumed" pods too; taking it for a new pending pod would bind it again,
        // fail, and count its GPUs twice once the binding's event arrives — leaving pods
        // Pending forever on nodes with free GPUs.
        guard placements[uid] == nil else { return }
        let scheduler = json[path: ["spec", "schedulerName"]]?.string ?? ""
        guard meta.deletionTimestamp == nil, scheduler.isEmpty || scheduler == Self.schedulerName else {
            forget(uid)
            return
        }
        if pending[uid] == nil {
            pending[uid] = PendingPod(namespace: meta.namespace, name: meta.name, uid: uid, requirements: SchedulingRequirements(pod: json))
            fresh.append(uid)
        }
    }

    /// Undoes a binding the store refused (the pod changed or went meanwhile).
    mutating func bindFailed(uid: String) {
        release(uid)
    }

    // MARK: Decisions

    /// Tries the fresh pods, and the waiting ones too when `retry` (and something changed).
    /// A bind decision already counts the pod's GPUs on its node.
    mutating func schedule(retry: Bool) -> [Decision] {
        var candidates = fresh
        fresh.removeAll()
        if retry, retryNeeded {
            candidates = waiting + candidates
            waiting.removeAll()
            retryNeeded = false
        }
        var decisions: [Decision] = []
        for uid in candidates {
            guard var pod = pending[uid] else { continue }
            switch place(pod) {
            case .success(let node):
                pending[uid] = nil
                place(uid, on: node, gpus: pod.requirements.gpus)
                decisions.append(.bind(namespace: pod.namespace, name: pod.name, uid: uid, node: node))
            case .failure(let failure):
                waiting.append(uid)
                if pod.lastMessage != failure.message {
                    pod.lastMessage = failure.message
                    pending[uid] = pod
                    decisions.append(.unschedulable(namespace: pod.namespace, name: pod.name, uid: uid, message: failure.message))
                }
            }
        }
        return decisions
    }

    private struct NoFit: Error {
        var message: String
    }

    /// The first node that fits, from a rotating start so pods spread over the nodes.
    private mutating func place(_ pod: PendingPod) -> Result<String, NoFit> {
        guard !nodes.isEmpty else {
            return .failure(NoFit(message: SchedulingFailure.message(nodeCount: 0, failures: [:])))
        }
        var failures: [SchedulingFailure: Int] = [:]
        let count = nodes.count
        for step in 0..<count {
            let node = nodes[(cursor + step) % count]
            let freePods = node.podCapacity == .max ? .max : node.podCapacity - podsBound(on: node.name)
            if let failure = pod.requirements.misfit(on: node, freeGPUs: node.gpuCapacity - gpusUsed(on: node.name), freePods: freePods) {
                failures[failure, default: 0] += 1
            } else {
                cursor = (cursor + step + 1) % count
                return .success(node.name)
            }
        }
        return .failure(NoFit(message: SchedulingFailure.message(nodeCount: count, failures: failures)))
    }

    private mutating func place(_ uid: String, on node: String, gpus: Int) {
        placements[uid] = (node, gpus)
        gpusUsed[node, default: 0] += gpus
        podsBound[node, default: 0] += 1
    }

    private mutating func release(_ uid: String) {
        guard let placement = placements.removeValue(forKey: uid) else { return }
        gpusUsed[placement.node, default: 0] -= placement.gpus
        podsBound[placement.node, default: 0] -= 1
        // Any freed slot (not only GPUs) may let a waiting pod in once limits grow; cheap to retry.
        retryNeeded = true
    }

    private mutating func forget(_ uid: String) {
        guard pending.removeValue(forKey: uid) != nil else { return }
        fresh.removeAll { $0 == uid }
        waiting.removeAll { $0 == uid }
    }
}
