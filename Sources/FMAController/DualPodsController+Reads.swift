import FMAKubeModel

/// Reads: the informer caches, overlaid with the Pods this controller just wrote.
extension DualPodsController {
    func pod(named name: String) -> Pod? {
        let key = "\(options.namespace)/\(name)"
        return written.pod(key) ?? pods.cache.get(key)
    }

    /// The Pods bound to the requester with `uid`.
    func providers(of uid: String) -> [Pod] {
        var byKey: [String: Pod] = [:]
        for pod in pods.cache.byIndex(Self.requesterIndex, uid) { byKey[pod.key] = pod }
        for pod in written.all where pod.metadata.namespace == options.namespace {
            if Binding(pod)?.uid == uid { byKey[pod.key] = pod } else { byKey[pod.key] = nil }
        }
        return byKey.values.sorted { $0.metadata.name < $1.metadata.name }
    }

    /// The launcher Pods with the node-specific hash `hash`, in name order.
    func launchers(withHash hash: String) -> [Pod] {
        var byKey: [String: Pod] = [:]
        for pod in pods.cache.byIndex(Self.launcherHashIndex, hash) { byKey[pod.key] = pod }
        for pod in written.all where pod.metadata.annotation(DualPods.Annotation.launcherConfigHash) == hash {
            byKey[pod.key] = pod
        }
        return byKey.values.sorted { $0.metadata.name < $1.metadata.name }
    }

    func state(_ uid: String) -> ServerState? {
        states.withLockedValue { $0[uid] }
    }

    func setState(_ uid: String, _ state: ServerState?) {
        states.withLockedValue { $0[uid] = state }
    }

    /// Whether the Pod's inference-server container runs.
    static func serverContainerRunning(_ pod: Pod) -> Bool {
        pod.status.containerStatuses.first { $0.name == DualPods.inferenceServerContainer }?.isRunning ?? false
    }
}
