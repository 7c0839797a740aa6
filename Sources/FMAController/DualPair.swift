public import FMAKubeModel

/// One server-requesting Pod and what serves it, as `fmactl dual list` shows it: read from the
/// Pods' FMA metadata alone, so it works against any cluster the controller runs in.
public struct DualPair: Sendable, Hashable {
    public var requester: String
    public var node: String
    public var inferenceServerConfig: String
    /// The provider Pod bound to the requester, if any: a launcher, or a direct-mode provider.
    public var launcher: String?
    public var instance: String?
    /// hot, warm or cold, once served.
    public var path: String?
    public var ready: Bool
    public var terminating: Bool
    /// What the controller says is wrong (the requester's status annotation).
    public var errors: [String]
    public var gpus: [String]

    /// `ready`, `terminating`, `waiting: <first error>`, `starting` or `pending`.
    public var state: String {
        if terminating { return "terminating" }
        if ready { return "ready" }
        if let first = errors.first { return "waiting: \(first)" }
        return launcher == nil ? "pending" : "starting"
    }

    /// The pairs among `pods` (requesters in name order) and the launcher Pods bound to none.
    public static func pairs(_ pods: [Pod]) -> (pairs: [DualPair], idleLaunchers: [Pod]) {
        var launcherByRequester: [String: Pod] = [:]
        var idle: [Pod] = []
        for pod in pods {
            if pod.metadata.label(DualPods.Label.launcherConfigName) != nil {
                if let binding = Binding(pod) { launcherByRequester[binding.uid] = pod } else { idle.append(pod) }
            } else if DirectProvider.isDirect(pod), let binding = Binding(pod) {
                launcherByRequester[binding.uid] = pod
            }
        }
        let pairs = pods.filter(DualPodsController.isRequester).map { pod -> DualPair in
            let annotations = pod.metadata.annotations
            let launcher = launcherByRequester[pod.metadata.uid]
            return DualPair(
                requester: pod.metadata.name, node: pod.spec.nodeName ?? "",
                inferenceServerConfig: annotations[DualPods.Annotation.inferenceServerConfig] ?? "",
                launcher: launcher?.metadata.name,
                instance: launcher?.metadata.annotation(DualPods.Annotation.instanceID) ?? pod.metadata.label(DualPods.Label.instance),
                path: annotations[DualPods.Annotation.actuationPath], ready: pod.isReady, terminating: pod.isTerminating,
                errors: annotations[DualPods.Annotation.status].flatMap(RequesterStatus.errors) ?? [],
                gpus: (annotations[DualPods.Annotation.accelerators] ?? "").split(separator: ",").map(String.init))
        }
        return (pairs.sorted { $0.requester < $1.requester }, idle.sorted { $0.metadata.name < $1.metadata.name })
    }
}
