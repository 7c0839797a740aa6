import FMAJSON
import FMAKube
import FMARPC
import FMAKubeModel
import Foundation
import Logging

/// Writes to the API server. A Pod is written with a merge patch of what `change` changed,
/// conditional on the resourceVersion read (a conflict throws and the key is retried after
/// backoff with fresh caches), so fields the cache leaves out (`CachedPod`) are never sent
/// back; what was written is remembered until the informer delivers it.
extension DualPodsController {
    @discardableResult
    func updatePod(_ pod: Pod, _ change: (inout Pod) -> Void) async throws(KubeError) -> Pod {
        var changed = pod
        change(&changed)
        guard changed != pod else { return pod }
        var patch = JSONValue.mergePatch(from: .object(pod.json), to: .object(changed.json)).object ?? JSONObject()
        patch[path: ["metadata", "resourceVersion"]] = .string(pod.metadata.resourceVersion)
        let patched: Pod = try await client.patch(name: pod.metadata.name, namespace: pod.metadata.namespace, .merge(.object(patch)))
        let updated = CachedPod.projected(patched)
        written.remember(updated)
        return updated
    }

    func updateRequester(_ requester: Pod, _ change: (inout Pod) -> Void) async throws(KubeError) {
        try await updatePod(requester, change)
    }

    /// Deletes the requester (with its UID and resourceVersion as preconditions unless told
    /// otherwise); already gone is fine.
    func deleteRequester(_ requester: Pod, reason: String, logger: Logger, preconditions: Bool = true) async throws(KubeError) {
        logger.info("deleting server-requesting Pod", metadata: ["reason": "\(reason)"])
        let deleteOptions = DeleteOptions(preconditionUID: preconditions ? requester.metadata.uid : nil,
                                    preconditionResourceVersion: preconditions ? requester.metadata.resourceVersion : nil,
                                    propagationPolicy: .background)
        do {
            try await client.delete(Pod.self, name: requester.metadata.name, namespace: options.namespace, options: deleteOptions)
        } catch where error.isNotFound || error.isGone {
            return
        } catch where error.isConflict && preconditions {
            // Changed since read: delete by UID alone (it is still the same server's requester).
            let byUID = DeleteOptions(preconditionUID: requester.metadata.uid, propagationPolicy: .background)
            do {
                try await client.delete(Pod.self, name: requester.metadata.name, namespace: self.options.namespace, options: byUID)
            } catch where error.isNotFound || error.isGone || error.isConflict {
                return
            }
        }
    }

    /// Writes `errors` to the requester's status annotation (see `writeRequesterState`) and
    /// ends this pass with `outcome`.
    func report(_ requester: Pod, _ errors: [String], state: ServerState, addFinalizer: Bool,
                then outcome: Outcome = .done) async throws(KubeError) -> Outcome {
        try await writeRequesterState(requester, errors: errors, state: state, addFinalizer: addFinalizer)
        return outcome
    }

    /// The requester's status annotation, accelerators, finalizer and `dual`/`instance` labels
    /// (FMA's ensureReqState); no write when nothing differs. Binding also gives the path it
    /// chose (`path`), so that serving needs no second write for the actuation-path annotation.
    func writeRequesterState(_ requester: Pod, errors: [String], state: ServerState, addFinalizer: Bool,
                             path: ActuationPath? = nil) async throws(KubeError) {
        try await updateRequester(requester) { pod in
            var meta = pod.metadata
            if let path, meta.annotations[DualPods.Annotation.actuationPath] == nil {
                meta.annotations[DualPods.Annotation.actuationPath] = path.rawValue
            }
            meta.annotations[DualPods.Annotation.status] = RequesterStatus.json(errors)
            meta.annotations[DualPods.Annotation.accelerators] = (state.gpuUUIDs ?? []).joined(separator: ",")
            if addFinalizer && !meta.finalizers.contains(DualPods.Finalizer.requester) {
                meta.finalizers.append(DualPods.Finalizer.requester)
            }
            if let provider = state.providerName, errors.isEmpty || meta.labels[DualPods.Label.dual] != nil {
                meta.labels[DualPods.Label.dual] = provider
                meta.labels[DualPods.Label.instance] = state.instance?.id
            } else if state.providerName == nil {
                meta.labels[DualPods.Label.dual] = nil
                meta.labels[DualPods.Label.instance] = nil
            }
            pod.metadata = meta
        }
        if !errors.isEmpty {
            logger.info("requester cannot be served yet", metadata: ["requester": "\(requester.metadata.name)", "errors": "\(errors.joined(separator: "; "))"])
        }
    }

    /// An fma RPC call to a launcher, timed as `timed` does; a failure becomes a ControllerError
    /// saying what failed (`what`) and keeping the RPC status code.
    func launcherCall<T>(_ purpose: String, isc: String, _ what: String, _ call: () async throws(RPCError) -> T) async throws(ControllerError) -> T {
        try await timed(purpose: purpose, method: "RPC", isc: isc) { () async throws(ControllerError) in
            do throws(RPCError) {
                return try await call()
            } catch {
                throw ControllerError("\(what) fails: \(error.message)", rpcCode: error.code)
            }
        }
    }

    /// Runs a call to a launcher, an instance or a requester and observes its latency in
    /// `fma_http_latency_seconds` (status code "0" when it failed without an answer).
    func timed<T>(purpose: String, method: String, isc: String, _ call: () async throws(ControllerError) -> T) async throws(ControllerError) -> T {
        let start = ContinuousClock.now
        do {
            let value = try await call()
            metrics.call(purpose: purpose, method: method, namespace: options.namespace, iscName: isc, statusCode: "200", seconds: Self.seconds(.now - start))
            return value
        } catch {
            metrics.call(purpose: purpose, method: method, namespace: options.namespace, iscName: isc, statusCode: "0", seconds: Self.seconds(.now - start))
            throw error
        }
    }
}
