import FMAJSON
import FMAKubeModel

/// Fields the API server fills in when an object is created, as a real cluster does.
enum Defaults {
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
        case .node:
            break  // a node may be created with its status
        default:
            if kind.subresources.contains("status") { object["status"] = nil }
        }
    }
}
