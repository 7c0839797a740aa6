import FMAJSON
import FMAKube
import FMAKubeModel
import Foundation
import Logging
import NIOConcurrencyHelpers

/// The kubelet (and scheduler) of `fma-bench scale`'s hollow nodes, which run no processes:
/// it binds a launcher Pod to the node its nodeSelector names, gives every Pod its address in
/// the node's block (`ScaleLayout`), reports it Running — a launcher Ready at once, a requester
/// Ready once the controller relayed its readiness, as its readiness probe would — and ends a
/// deletion as a kubelet does once the containers stopped. Level-triggered: each Pod key is
/// brought to what its Pod wants, and a write that conflicts is tried again.
final class HollowKubelet: Sendable {
    let client: KubeClient
    let requesters: SimulatedRequesters
    let informer: Informer<KubeListerWatcher<Pod>>
    private let queue = WorkQueue<String>(logger: Logger(label: "fma.bench.hollow-kubelet", factory: { _ in SwiftLogNoOpLogHandler() }))
    /// Launcher slots in use: pod key → (node, slot).
    private let launcherSlots = NIOLockedValueBox<[String: (node: Int, slot: Int)]>([:])
    private let writes = NIOLockedValueBox(0)

    init(client: KubeClient, requesters: SimulatedRequesters) {
        self.client = client
        self.requesters = requesters
        informer = Informer(client.listerWatcher(Pod.self, namespace: ScaleLayout.namespace),
                            logger: Logger(label: "fma.bench.hollow-kubelet", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Runs until cancelled.
    func run(workers: Int) async {
        let queue = self.queue
        informer.addHandler { event in queue.add(event.key) }
        requesters.onReadinessChange { name in queue.add("\(ScaleLayout.namespace)/\(name)") }
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.informer.run() }
                group.addTask { await queue.run(workers: workers) { key in try await self.sync(key) } }
            }
        } onCancel: {
            queue.shutdown()
        }
    }

    /// The requesters in the cache (those not yet deleted for good).
    var requesterCount: Int {
        informer.cache.list().count { $0.metadata.labels[ScaleLayout.gpuLabel] != nil }
    }

    var writeCount: Int { writes.withLockedValue { $0 } }

    private func sync(_ key: String) async throws {
        guard let pod = informer.cache.get(key) else {
            launcherSlots.withLockedValue { _ = $0.removeValue(forKey: key) }
            return
        }
        let name = pod.metadata.name
        if pod.isTerminating {
            guard pod.metadata.deletionGracePeriodSeconds != 0 else { return }
            // The containers "stopped": the kubelet's final delete (finalizers may hold it).
            do {
                _ = try await client.delete(Pod.self, name: name, namespace: ScaleLayout.namespace,
                                            options: DeleteOptions(preconditionUID: pod.metadata.uid, gracePeriodSeconds: 0))
            } catch {
                if error.isNotFound || error.isConflict { return }
                throw error
            }
            count()
            return
        }
        guard let nodeName = pod.spec.nodeName, !nodeName.isEmpty else {
            guard let wanted = pod.spec.nodeSelector["kubernetes.io/hostname"], ScaleLayout.nodeIndex(wanted) != nil else { return }
            try await client.bind(pod: name, namespace: ScaleLayout.namespace, node: wanted)
            count()
            return
        }
        guard let node = ScaleLayout.nodeIndex(nodeName) else { return }
        let gpu = pod.metadata.labels[ScaleLayout.gpuLabel].flatMap(Int.init)
        let ready = gpu.map { _ in requesters.isReady(name) } ?? true
        let address: String
        if let ip = pod.status.podIP, !ip.isEmpty {
            let containersReady = pod.status.containerStatuses.allSatisfy(\.ready) && !pod.status.containerStatuses.isEmpty
            guard containersReady != ready else { return }
            address = ip
        } else if let gpu {
            address = ScaleLayout.address(node: node, slot: ScaleLayout.requesterSlot(gpu: gpu))
        } else {
            guard let slot = takeLauncherSlot(key, node: node) else { return }
            address = ScaleLayout.address(node: node, slot: slot)
        }
        var updated = pod
        updated.status = Self.status(of: pod, address: address, node: node, ready: ready)
        _ = try await client.updateStatus(updated)
        count()
    }

    private func count() {
        writes.withLockedValue { $0 += 1 }
    }

    private func takeLauncherSlot(_ key: String, node: Int) -> Int? {
        launcherSlots.withLockedValue { slots in
            if let taken = slots[key] { return taken.slot }
            let used = Set(slots.values.filter { $0.node == node }.map(\.slot))
            guard let free = requesters.layout.launcherSlots.first(where: { !used.contains($0) }) else { return nil }
            slots[key] = (node, free)
            return free
        }
    }

    /// Running, with every container started at the first report and ready as `ready` says.
    static func status(of pod: Pod, address: String, node: Int, ready: Bool) -> PodStatus {
        let now = KubeTime.string(Date())
        let started = pod.status.startTime ?? now
        let hostIP = ScaleLayout.address(node: node, slot: 1)
        var status = PodStatus()
        status.json["phase"] = "Running"
        status.json["podIP"] = .string(address)
        status.json["podIPs"] = [["ip": .string(address)]]
        status.json["hostIP"] = .string(hostIP)
        status.json["hostIPs"] = [["ip": .string(hostIP)]]
        status.json["startTime"] = .string(started)
        let readiness: JSONValue = ready ? "True" : "False"
        status.json["conditions"] = .array(["PodScheduled", "Initialized", "ContainersReady", "Ready"].map { type in
            ["type": .string(type), "status": type == "PodScheduled" || type == "Initialized" ? "True" : readiness,
             "lastTransitionTime": .string(now)]
        })
        status.json["containerStatuses"] = .array(pod.spec.containers.map { container in
            ["name": .string(container.name), "image": .string(container.image ?? ""), "imageID": "",
             "containerID": .string("hollow://\(pod.metadata.uid)/\(container.name)"), "ready": .bool(ready), "started": true,
             "restartCount": 0, "state": ["running": ["startedAt": .string(started)]]]
        })
        return status
    }
}
