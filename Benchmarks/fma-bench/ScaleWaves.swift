import ArgumentParser
import FMAJSON
import FMAKube
import FMAKubeModel
import Foundation

/// The objects and waves of `fma-bench scale`: hollow Nodes, a LauncherConfig and one
/// InferenceServerConfig per GPU index, then requesters created (and deleted) all at once.
struct ScaleWaves: Sendable {
    struct Result {
        var total: Int
        var served: Int
        /// Create call → readiness relayed, seconds, per requester served.
        var servedAfter: [Double]
        var wallSeconds: Double
    }

    let client: KubeClient
    let layout: ScaleLayout
    let requesters: SimulatedRequesters
    let kubelet: HollowKubelet
    let concurrency: Int

    func createNodesAndConfigs() async throws {
        try await forEach((1...layout.nodes).map { $0 }) { node in
            let name = ScaleLayout.nodeName(node)
            let created = try await client.create(Node(json: try ControllerActuations.object("""
                {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "\(name)", "labels": {
                  "kubernetes.io/hostname": "\(name)", "kubernetes.io/os": "linux", "nvidia.com/gpu.present": "true"}}}
                """)))
            var withStatus = created
            withStatus.json["status"] = .object(try ControllerActuations.object("""
                {"capacity": {"cpu": "64", "memory": "512Gi", "pods": "110", "nvidia.com/gpu": "\(layout.gpusPerNode)"},
                 "allocatable": {"cpu": "64", "memory": "512Gi", "pods": "110", "nvidia.com/gpu": "\(layout.gpusPerNode)"},
                 "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "hollow node"}],
                 "addresses": [{"type": "InternalIP", "address": "\(ScaleLayout.address(node: node, slot: 1))"},
                               {"type": "Hostname", "address": "\(name)"}]}
                """))
            _ = try await client.updateStatus(withStatus)
        }
        _ = try await client.create(LauncherConfig(json: try ControllerActuations.object("""
            {"apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "LauncherConfig",
             "metadata": {"name": "\(ScaleLayout.launcherConfig)", "namespace": "\(ScaleLayout.namespace)"},
             "spec": {"maxInstances": \(layout.maxInstances), "podTemplate": {"spec": {
               "containers": [{"name": "inference-server", "image": "fma/launcher",
                               "ports": [{"name": "fma-rpc", "containerPort": \(ScaleLayout.launcherPort)}]}]}}}}
            """)))
        for gpu in 0..<layout.gpusPerNode {
            _ = try await client.create(InferenceServerConfig(json: try ControllerActuations.object("""
                {"apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "InferenceServerConfig",
                 "metadata": {"name": "\(ScaleLayout.iscName(gpu: gpu))", "namespace": "\(ScaleLayout.namespace)"},
                 "spec": {"launcherConfigName": "\(ScaleLayout.launcherConfig)",
                          "modelServerConfig": {"port": \(ScaleLayout.instancePort(gpu: gpu)), "options": "--model fake/\(ScaleLayout.iscName(gpu: gpu))"}}}
                """)))
        }
    }

    /// Creates every requester and waits until the controller relayed each one's readiness.
    func serveAll(timeout: Duration, label: String) async throws -> Result {
        requesters.startWave()
        let start = ContinuousClock.now
        let total = layout.nodes * layout.gpusPerNode
        try await forEach((0..<total).map { $0 }) { index in
            let node = index / layout.gpusPerNode + 1
            let gpu = index % layout.gpusPerNode
            let pod = try requesterPod(node: node, gpu: gpu)
            requesters.created(pod.metadata.name)
            _ = try await client.create(pod)
        }
        ScaleBench.say("  \(label): \(total) requesters created in \(String(format: "%.1f", ControllerActuations.seconds(.now - start))) s")
        try await progress(label: label, what: "served", timeout: timeout) { requesters.servedCount >= total }
        return Result(total: total, served: requesters.servedCount, servedAfter: requesters.servedAfter.map(ControllerActuations.seconds),
                      wallSeconds: ControllerActuations.seconds(.now - start))
    }

    /// Deletes every requester and waits until they are gone (the controller's finalizers off).
    func deleteAll(timeout: Duration, label: String) async throws {
        let start = ContinuousClock.now
        let total = layout.nodes * layout.gpusPerNode
        try await forEach((0..<total).map { $0 }) { index in
            let name = ScaleLayout.requesterName(node: index / layout.gpusPerNode + 1, gpu: index % layout.gpusPerNode)
            try await deleteIfPresent(name)
        }
        try await progress(label: label, what: "gone", timeout: timeout) { kubelet.requesterCount == 0 }
        ScaleBench.say("  \(label): all requesters deleted and gone in \(String(format: "%.1f", ControllerActuations.seconds(.now - start))) s")
    }

    private func deleteIfPresent(_ name: String) async throws(KubeError) {
        do {
            _ = try await client.delete(Pod.self, name: name, namespace: ScaleLayout.namespace)
        } catch {
            if !error.isNotFound { throw error }
        }
    }

    private func requesterPod(node: Int, gpu: Int) throws -> Pod {
        Pod(json: try ControllerActuations.object("""
            {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "\(ScaleLayout.requesterName(node: node, gpu: gpu))", "namespace": "\(ScaleLayout.namespace)",
                          "labels": {"app": "fma-bench-scale", "\(ScaleLayout.gpuLabel)": "\(gpu)"},
                          "annotations": {"dual-pods.llm-d.ai/inference-server-config": "\(ScaleLayout.iscName(gpu: gpu))"}},
             "spec": {"nodeName": "\(ScaleLayout.nodeName(node))", "containers": [{
               "name": "inference-server", "image": "fma/requester",
               "ports": [{"name": "fma-rpc", "containerPort": \(ScaleLayout.requesterPort)}],
               "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}}
            """))
    }

    /// Waits for `done`, printing progress every 10 s; at the timeout, returns (the caller
    /// reports what is missing).
    private func progress(label: String, what: String, timeout: Duration, _ done: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        var nextReport = ContinuousClock.now + .seconds(10)
        while !done() {
            if ContinuousClock.now >= deadline {
                ScaleBench.say("  \(label): not all \(what) after \(timeout); served \(requesters.servedCount), requesters left \(kubelet.requesterCount)")
                return
            }
            if ContinuousClock.now >= nextReport {
                ScaleBench.say("  \(label): waiting until all are \(what): served \(requesters.servedCount), requesters left \(kubelet.requesterCount), hollow kubelet writes \(kubelet.writeCount)")
                nextReport = ContinuousClock.now + .seconds(10)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Runs `body` for every element, `concurrency` at a time.
    private func forEach<T: Sendable>(_ elements: [T], _ body: @escaping @Sendable (T) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var iterator = elements.makeIterator()
            for _ in 0..<concurrency {
                guard let element = iterator.next() else { break }
                group.addTask { try await body(element) }
            }
            while try await group.next() != nil {
                if let element = iterator.next() { group.addTask { try await body(element) } }
            }
        }
    }
}
