import FMAJSON
import FMAKubeModel
import Foundation

/// Fields the API server fills in when an object is created or written, as a real cluster does.
enum Defaults {
    /// On every create and update: a namespace's `kubernetes.io/metadata.name` label; a Secret's `stringData` goes into `data` (base64, over a
    /// `data` value of the same key) and its `type` defaults to `Opaque`, as the API server
    /// converts them. A `stringData` that is not all strings is left for admission to name.
    static func applyOnWrite(_ kind: ResourceKind, _ object: inout JSONObject) {
        if kind == .namespace, let name = object[path: ["metadata", "name"]]?.string {
            // Every namespace is labelled with its name (what namespace selectors match on).
            object[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(name)
        }
        guard kind == .secret else { return }
        if object["type"] == nil || object["type"]?.isNull == true || object["type"]?.string == "" {
            object["type"] = "Opaque"
        }
        guard let stringData = object["stringData"] else { return }
        if stringData.isNull {
            object["stringData"] = nil
            return
        }
        guard let plain = stringData.stringMap, let members = stringData.object, plain.count == members.count else { return }
        var data = object["data"]?.object ?? JSONObject()
        for (key, value) in plain.sorted(by: { $0.key < $1.key }) {
            data[key] = .string(Data(value.utf8).base64EncodedString())
        }
        object["data"] = .object(data)
        object["stringData"] = nil
    }

    static func applyOnCreate(_ kind: ResourceKind, _ object: inout JSONObject) {
        switch kind {
        case .pod:
            var spec = object["spec"]?.object ?? JSONObject()
            if spec["restartPolicy"] == nil { spec["restartPolicy"] = "Always" }
            if spec["terminationGracePeriodSeconds"] == nil { spec["terminationGracePeriodSeconds"] = 30 }
            if spec["schedulerName"] == nil { spec["schedulerName"] = "default-scheduler" }
            object["spec"] = .object(spec)
            object["status"] = ["phase": "Pending"]
        case .namespace:
            object["status"] = ["phase": "Active"]
        case .replicaSet:
            if object[path: ["spec", "replicas"]] == nil { object[path: ["spec", "replicas"]] = 1 }
            object["status"] = ["replicas": 0]
        case .deployment:
            if object[path: ["spec", "replicas"]] == nil { object[path: ["spec", "replicas"]] = 1 }
            if object[path: ["spec", "strategy"]] == nil {
                object[path: ["spec", "strategy"]] = ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "25%", "maxSurge": "25%"]]
            }
            if object[path: ["spec", "revisionHistoryLimit"]] == nil { object[path: ["spec", "revisionHistoryLimit"]] = 10 }
            if object[path: ["spec", "progressDeadlineSeconds"]] == nil { object[path: ["spec", "progressDeadlineSeconds"]] = 600 }
            object["status"] = nil
        case .daemonSet:
            if object[path: ["spec", "updateStrategy"]] == nil {
                object[path: ["spec", "updateStrategy"]] = ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1, "maxSurge": 0]]
            }
            if object[path: ["spec", "revisionHistoryLimit"]] == nil { object[path: ["spec", "revisionHistoryLimit"]] = 10 }
            object["status"] = nil
        case .node:
            break  // a node may be created with its status
        default:
            if kind.subresources.contains("status") { object["status"] = nil }
        }
    }
}
