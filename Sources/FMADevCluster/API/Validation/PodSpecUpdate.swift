import FMAJSON

/// What an update may change in a pod's spec, as Kubernetes' `ValidatePodUpdate` allows:
/// container and init-container images, `activeDeadlineSeconds`, tolerations added after the
/// existing ones, `terminationGracePeriodSeconds` from a negative value to 1, and scheduling
/// gates removed. Anything else is 422 naming the first field that changed. A pod is assigned
/// to a node through the `binding` subresource, not by an update.
enum PodSpecUpdate {
    static let forbidden = "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

    static func causes(old: JSONObject, new: JSONObject) -> [(field: String, message: String)] {
        guard var before = old["spec"]?.object, let after = new["spec"]?.object else { return [] }
        for field in ["containers", "initContainers"] {
            guard var containers = before[field]?.array, let updated = after[field]?.array, containers.count == updated.count else { continue }
            for index in containers.indices {
                guard var container = containers[index].object else { continue }
                container["image"] = updated[index]["image"]
                containers[index] = .object(container)
            }
            before[field] = .array(containers)
        }
        before["activeDeadlineSeconds"] = after["activeDeadlineSeconds"]
        let tolerations = before["tolerations"]?.array ?? []
        if let added = after["tolerations"]?.array, added.starts(with: tolerations) { before["tolerations"] = after["tolerations"] }
        if (before["terminationGracePeriodSeconds"]?.int ?? 0) < 0, after["terminationGracePeriodSeconds"]?.int == 1 {
            before["terminationGracePeriodSeconds"] = after["terminationGracePeriodSeconds"]
        }
        let gates = before["schedulingGates"]?.array ?? []
        if let remaining = after["schedulingGates"]?.array, remaining.allSatisfy(gates.contains) { before["schedulingGates"] = after["schedulingGates"] }
        if before["schedulingGates"] != nil, after["schedulingGates"] == nil { before["schedulingGates"] = nil }
        guard let changed = firstDifference(.object(before), .object(after), path: "spec") else { return [] }
        return [("spec", "\(forbidden) (\(changed) changed)")]
    }

    /// The path of the first place where `a` and `b` differ, nil when equal.
    static func firstDifference(_ a: JSONValue, _ b: JSONValue, path: String) -> String? {
        if a == b { return nil }
        switch (a, b) {
        case (.object(let x), .object(let y)):
            let keys = Set(x.keys).union(y.keys).sorted()
            for key in keys {
                if let found = firstDifference(x[key] ?? .null, y[key] ?? .null, path: "\(path).\(key)") { return found }
            }
            return path
        case (.array(let x), .array(let y)) where x.count == y.count:
            for index in x.indices {
                if let found = firstDifference(x[index], y[index], path: "\(path)[\(index)]") { return found }
            }
            return path
        default:
            return path
        }
    }
}
