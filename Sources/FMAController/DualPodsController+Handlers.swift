import FMAKube
import FMAKubeModel

/// Informer events → keys. Handlers only classify and enqueue (FMA's §3.2, §3.4).
extension DualPodsController {
    func addHandlers() {
        pods.addHandler { [self] event in
            switch event {
            case .added(let pod): podChanged(pod, count: 1)
            case .updated(_, let pod): podChanged(pod, count: 0)
            case .deleted(let pod): podChanged(pod, count: -1)
            }
        }
        iscs.addHandler { [self] event in
            switch event {
            case .added(let isc):
                metrics.iscAdded(launcherConfig: isc.spec.launcherConfigName, delta: 1)
                enqueueRequesters(isc: isc.metadata.name)
            case .updated(let old, let new):
                if old.spec.launcherConfigName != new.spec.launcherConfigName {
                    metrics.iscAdded(launcherConfig: old.spec.launcherConfigName, delta: -1)
                    metrics.iscAdded(launcherConfig: new.spec.launcherConfigName, delta: 1)
                }
                if old.spec != new.spec {
                    for node in launcherNodes() { enqueue(.instanceGC(isc: new.metadata.name, node: node)) }
                }
                enqueueRequesters(isc: new.metadata.name)
            case .deleted(let isc):
                metrics.iscAdded(launcherConfig: isc.spec.launcherConfigName, delta: -1)
                enqueueRequesters(isc: isc.metadata.name)
            }
        }
        // FMA ignores LauncherConfig events; a requester waiting for its LauncherConfig then
        // waits for an unrelated event. Here it is reconciled when the config appears or changes.
        launcherConfigs.addHandler { [self] event in
            let config: LauncherConfig
            switch event {
            case .added(let c), .updated(_, let c), .deleted(let c): config = c
            }
            for isc in iscs.cache.list() where isc.spec.launcherConfigName == config.metadata.name {
                enqueueRequesters(isc: isc.metadata.name)
            }
        }
        // The gpu-map ConfigMap (FMA's cmItem): read at each change; any change brings every
        // direct-mode server back (FMA: only when UUIDs were added or moved), so that a removed
        // node's requesters show the error too.
        gpuMapConfigMaps.addHandler { [self] event in
            let map: GPUMap?
            switch event {
            case .added(let cm), .updated(_, let cm): map = GPUMap(data: cm.data)
            case .deleted: map = nil
            }
            let previous = gpuMap.withLockedValue { old in
                defer { old = map }
                return old
            }
            guard previous != map else { return }
            for (node, why) in map?.skipped ?? [:] {
                logger.warning("skipping an entry of the gpu-map ConfigMap", metadata: ["node": "\(node)", "why": "\(why)"])
            }
            logger.info("gpu-map changed", metadata: ["gpus": "\(map?.locations.count ?? 0)", "added_or_moved": "\(map?.additions(since: previous) ?? 0)"])
            enqueueDirectRequesters()
        }
        // A cordoned node deletes its unserved requesters; an uncordoned one lets them proceed.
        nodes.addHandler { [self] event in
            guard case .updated(let old, let new) = event, old.spec.unschedulable != new.spec.unschedulable else { return }
            enqueueUnboundRequesters(node: new.metadata.name)
        }
    }

    /// `count`: +1 for an add, -1 for a delete, 0 for an update (FMA's requester gauge).
    private func podChanged(_ pod: Pod, count: Int) {
        let deleted = count < 0
        written.observed(pod, deleted: deleted)
        if deleted && DirectProvider.isDirect(pod) {
            providerUse.withLockedValue { $0[pod.metadata.name] = nil }
        }
        let annotations = pod.metadata.annotations
        let isc = annotations[DualPods.Annotation.inferenceServerConfig]
        let patch = annotations[DualPods.Annotation.serverPatch]
        if isc?.isEmpty == false || patch?.isEmpty == false {
            if let isc, !isc.isEmpty, count != 0 { metrics.requesterAdded(isc: isc, delta: count) }
            if let node = pod.spec.nodeName, !node.isEmpty {
                enqueue(.server(uid: pod.metadata.uid, name: pod.metadata.name, node: node))
            }
            return
        }
        if let binding = Binding(pod), let node = Self.providerNode(pod) {
            enqueue(.server(uid: binding.uid, name: binding.name, node: node))
        }
        if pod.metadata.label(DualPods.Label.launcherConfigName) != nil {
            fleet.track(podName: pod.metadata.name, address: deleted || pod.status.phase == "Failed" ? nil : Endpoints.rpcAddress(of: pod))
            if let node = Self.providerNode(pod) { enqueue(.launcher(podName: pod.metadata.name, node: node)) }
        }
    }

    /// Every scheduled requester of the ISC named `isc`.
    func enqueueRequesters(isc: String) {
        for pod in pods.cache.byIndex(Self.iscIndex, isc) {
            if let node = pod.spec.nodeName, !node.isEmpty {
                enqueue(.server(uid: pod.metadata.uid, name: pod.metadata.name, node: node))
            }
        }
    }

    /// Every scheduled direct-mode requester.
    func enqueueDirectRequesters() {
        for pod in pods.cache.list() where pod.metadata.annotation(DualPods.Annotation.serverPatch)?.isEmpty == false
            && pod.metadata.annotation(DualPods.Annotation.inferenceServerConfig) == nil {
            if let node = pod.spec.nodeName, !node.isEmpty {
                enqueue(.server(uid: pod.metadata.uid, name: pod.metadata.name, node: node))
            }
        }
    }

    /// The requesters on `node` that no provider serves yet.
    func enqueueUnboundRequesters(node: String) {
        for pod in pods.cache.byIndex(Self.nodeIndex, node) where Self.isRequester(pod) {
            if providers(of: pod.metadata.uid).isEmpty {
                enqueue(.server(uid: pod.metadata.uid, name: pod.metadata.name, node: node))
            }
        }
    }

    /// The nodes that have launcher Pods.
    func launcherNodes() -> Set<String> {
        Set(pods.cache.list().filter { $0.metadata.label(DualPods.Label.launcherConfigName) != nil }.compactMap(Self.providerNode))
    }

    static func isRequester(_ pod: Pod) -> Bool {
        let annotations = pod.metadata.annotations
        return annotations[DualPods.Annotation.inferenceServerConfig]?.isEmpty == false
            || annotations[DualPods.Annotation.serverPatch]?.isEmpty == false
    }
}
