import FMAJSON
import FMAKubeModel
import Synchronization

/// Tells a probe loop to stop (its container exited or the pod is going).
final class ProbeStop: Sendable {
    private let flag = Atomic<Bool>(false)
    var isStopped: Bool { flag.load(ordering: .relaxed) }
    func stop() { flag.store(true, ordering: .relaxed) }
}

/// One container of a pod the kubelet runs.
struct ContainerRuntime {
    let spec: Container
    var lifecycle = ContainerLifecycle()
    /// The live process (its group leader), if it runs as one.
    var pid: Int32?
    var gpus: [Int] = []
    var probeStop: ProbeStop?
    var probeSuccesses: Int64 = 0
    var probeFailures: Int64 = 0

    init(spec: Container) {
        self.spec = spec
    }
}

/// A pod the kubelet has admitted on one of its nodes: its address, GPUs and containers.
/// Owned by the kubelet's loop.
final class KubeletPod {
    let namespace: String
    let name: String
    let uid: String
    let node: SimulatedNode
    let spec: PodSpec
    let labels: [String: String]
    let annotations: [String: String]
    let startTime: String
    var slot: Int?
    var containers: [ContainerRuntime]
    /// Set when admission failed: the pod is Failed with this reason and message.
    var failure: (reason: String, message: String)?
    var terminating = false
    /// Whether to delete the object once its containers are gone (not when the simulator stops).
    var deleteWhenStopped = true
    /// The object is already gone from the store.
    var objectGone = false
    var resourcesReleased = false

    init(json: JSONObject, node: SimulatedNode, startTime: String) {
        let pod = Pod(json: json)
        namespace = pod.metadata.namespace
        name = pod.metadata.name
        uid = pod.metadata.uid
        labels = pod.metadata.labels
        annotations = pod.metadata.annotations
        spec = pod.spec
        self.node = node
        // A pod that ran before the cluster restarted keeps its start time, and its containers
        // count the restart, as after a node reboot.
        self.startTime = pod.status.json["startTime"]?.string ?? startTime
        let previous = pod.status.containerStatuses
        containers = pod.spec.containers.map { spec in
            var container = ContainerRuntime(spec: spec)
            if let status = previous.first(where: { $0.name == spec.name }), status.state?["waiting"] == nil || status.restartCount > 0 {
                container.lifecycle.ranBefore(restarts: status.restartCount)
            }
            return container
        }
    }

    var key: String { "\(namespace)/\(name)" }
    var restartPolicy: String { spec.restartPolicy ?? "Always" }
    var hostNetwork: Bool { spec.json["hostNetwork"]?.bool ?? false }
    var gracePeriodSeconds: Int64 { spec.terminationGracePeriodSeconds ?? 30 }

    var podIP: String? {
        if hostNetwork { return node.address }
        return slot.map(node.podAddress(slot:))
    }

    var livePIDs: [Int32] { containers.compactMap(\.pid) }

    var facts: ContainerEnvironment.PodFacts {
        ContainerEnvironment.PodFacts(
            namespace: namespace, name: name, uid: uid, nodeName: node.name, podIP: podIP ?? "", hostIP: node.address,
            serviceAccountName: spec.serviceAccountName ?? "default", labels: labels, annotations: annotations)
    }

    /// `Pending`, `Running`, `Succeeded` or `Failed`, from the containers (nil while stopping:
    /// the phase stays as it was).
    var phase: String? {
        if failure != nil { return "Failed" }
        if terminating { return nil }
        if !containers.isEmpty, restartPolicy != "Always", containers.allSatisfy(\.lifecycle.isTerminated) {
            let failed = containers.contains { if case .terminated(let exit) = $0.lifecycle.state { exit.exitCode != 0 } else { false } }
            return failed ? "Failed" : "Succeeded"
        }
        return containers.contains(where: \.lifecycle.hasStarted) ? "Running" : "Pending"
    }

    var isFinished: Bool { phase == "Succeeded" || phase == "Failed" }

    /// Writes what the kubelet owns into `status`, leaving the rest (the scheduler's condition,
    /// fields others set) as it was.
    func apply(to status: inout PodStatus, now: String) {
        if let phase { status.phase = phase }
        if let failure {
            status.json["reason"] = .string(failure.reason)
            status.json["message"] = .string(failure.message)
        }
        status.hostIP = node.address
        status.json["hostIPs"] = [["ip": .string(node.address)]]
        if let podIP {
            status.podIP = podIP
            status.json["podIPs"] = [["ip": .string(podIP)]]
        }
        if status.startTime == nil { status.startTime = startTime }
        let unready = containers.filter { !$0.lifecycle.ready }.map(\.spec.name)
        let allReady = unready.isEmpty && failure == nil
        let message = unready.isEmpty ? nil : "containers with unready status: [\(unready.joined(separator: " "))]"
        status.setCondition(Condition(type: "PodScheduled", status: true, lastTransitionTime: now))
        status.setCondition(Condition(type: "Initialized", status: true, lastTransitionTime: now))
        status.setCondition(Condition(type: "ContainersReady", status: allReady, reason: allReady ? nil : "ContainersNotReady", message: message, lastTransitionTime: now))
        status.setCondition(Condition(type: "Ready", status: allReady, reason: allReady ? nil : "ContainersNotReady", message: message, lastTransitionTime: now))
        status.containerStatuses = containers.map(containerStatus)
        let initContainers = spec.initContainers
        if !initContainers.isEmpty {
            // Init containers are simulated: each completed at once.
            status.json["initContainerStatuses"] = .array(initContainers.map { container in
                .object([
                    "name": .string(container.name), "image": .string(container.image ?? ""), "imageID": "", "ready": true, "restartCount": 0,
                    "state": .object(ContainerExit(exitCode: 0, reason: "Completed", message: "simulated", startedAt: startTime, finishedAt: startTime).json),
                ])
            })
        }
    }

    private func containerStatus(_ container: ContainerRuntime) -> ContainerStatus {
        var status = ContainerStatus()
        status.name = container.spec.name
        status.image = container.spec.image ?? ""
        status.json["imageID"] = ""
        status.containerID = "fma://\(uid)/\(container.spec.name)/\(container.lifecycle.restartCount)"
        status.ready = container.lifecycle.ready
        status.started = container.lifecycle.isRunning
        status.restartCount = container.lifecycle.restartCount
        status.state = container.lifecycle.stateJSON
        status.json["lastState"] = .object(container.lifecycle.lastTermination?.json ?? JSONObject())
        return status
    }
}
