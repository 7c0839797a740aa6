import FMAJSON
import FMAKubeModel

/// What of a Pod the dual-pods controller keeps in its cache (the Pod informer's transform).
///
/// The controller caches every Pod of its namespace (requesters, launchers, the rest) and reads
/// only a little of each; at 8,000 requesters the cache is most of its memory. Kept:
/// - `metadata` whole but for `managedFields` (a real API server writes those on every Pod,
///   often half its size);
/// - `spec.nodeName`, `spec.nodeSelector`, and each container's `name` and `ports` (where the
///   requester's stub and the launcher's RPC listen);
/// - `status.phase`, `status.podIP`, the `Ready` condition, and each container status's `name`,
///   `ready`, `started`, `restartCount` and `state`;
/// - for the launcher populator (`projectedLauncher`), also the `PodScheduled` condition with its
///   `lastTransitionTime` (when a launcher that does not turn Ready counts as stuck).
///
/// - direct-mode providers (with the `nominal` annotation): the whole spec (the `gpu` index reads
///   `CUDA_VISIBLE_DEVICES`, sleeping and waking read the readinessProbe's port) and, of
///   `managedFields`, the time of this controller's last write (the sleeper budget's
///   least-recently-used order); direct-mode requesters (with a `server-patch` and no
///   `inference-server-config`): the whole spec, which their provider is made from.
///
/// Everything else (commands, environment, volumes, probes, tolerations, the other conditions)
/// is left out. That is safe because the controller writes Pods only with merge patches of the
/// metadata it owns (`DualPodsController.updatePod`), never by sending back a cached Pod.
/// A reader of a new field must add it here.
enum CachedPod {
    private static let specKept: Set<String> = ["nodeName", "nodeSelector"]
    private static let containerKept: Set<String> = ["name", "ports"]
    private static let statusKept: Set<String> = ["phase", "podIP"]
    /// Condition type → the members kept of it.
    private static let conditionsKept: [String: Set<String>] = ["Ready": ["type", "status"]]
    private static let launcherConditionsKept: [String: Set<String>] = [
        "Ready": ["type", "status"], "PodScheduled": ["type", "status", "lastTransitionTime"],
    ]
    private static let containerStatusKept: Set<String> = ["name", "ready", "started", "restartCount", "state"]

    static func projected(_ pod: Pod) -> Pod {
        projected(pod, conditions: conditionsKept)
    }

    /// The projection of the populator's launcher Pods.
    static func projectedLauncher(_ pod: Pod) -> Pod {
        projected(pod, conditions: launcherConditionsKept)
    }

    private static func projected(_ pod: Pod, conditions: [String: Set<String>]) -> Pod {
        // Single annotations, not the whole map: this runs for every Pod event.
        let meta = pod.metadata
        let provider = meta.annotation(DualPods.Annotation.nominal) != nil
        let direct = provider || (meta.annotation(DualPods.Annotation.serverPatch) != nil
            && meta.annotation(DualPods.Annotation.inferenceServerConfig) == nil)
        var json = JSONObject()
        for (key, value) in pod.json {
            switch key {
            case "apiVersion", "kind":
                json[key] = value
            case "metadata":
                json[key] = value.object.map { .object(metadata($0, provider: provider)) } ?? value
            case "spec":
                json[key] = direct ? value : value.object.map { .object(spec($0)) } ?? value
            case "status":
                json[key] = value.object.map { .object(status($0, conditions: conditions)) } ?? value
            default:
                break
            }
        }
        json.shrinkToFit()
        return Pod(json: json)
    }

    private static func metadata(_ metadata: JSONObject, provider: Bool) -> JSONObject {
        guard let managed = metadata["managedFields"] else { return metadata }
        var metadata = metadata
        metadata["managedFields"] = nil
        if provider {
            let ours = (managed.array ?? []).filter { $0["manager"]?.string == DualPods.controllerName }
                .compactMap { entry -> JSONValue? in
                    entry["time"].map { .object(["manager": .string(DualPods.controllerName), "time": $0]) }
                }
            if !ours.isEmpty { metadata["managedFields"] = .array(ours) }
        }
        return metadata
    }

    private static func spec(_ spec: JSONObject) -> JSONObject {
        var kept = keeping(spec, specKept)
        if let containers = spec["containers"]?.array {
            kept["containers"] = .array(containers.map { container in
                container.object.map { .object(keeping($0, containerKept)) } ?? container
            })
        }
        return kept
    }

    private static func status(_ status: JSONObject, conditions kinds: [String: Set<String>]) -> JSONObject {
        var kept = keeping(status, statusKept)
        if let conditions = status["conditions"]?.array {
            let wanted = conditions.compactMap { condition -> JSONValue? in
                guard let object = condition.object, let members = kinds[object["type"]?.string ?? ""] else { return nil }
                return .object(keeping(object, members))
            }
            if !wanted.isEmpty { kept["conditions"] = .array(wanted) }
        }
        if let statuses = status["containerStatuses"]?.array {
            kept["containerStatuses"] = .array(statuses.map { containerStatus in
                containerStatus.object.map { .object(keeping($0, containerStatusKept)) } ?? containerStatus
            })
        }
        return kept
    }

    /// The members of `object` named in `keys`, in the object's order, without spare capacity.
    private static func keeping(_ object: JSONObject, _ keys: Set<String>) -> JSONObject {
        var kept = JSONObject(object.lazy.filter { keys.contains($0.key) }.map { ($0.key, $0.value) })
        kept.shrinkToFit()
        return kept
    }
}
