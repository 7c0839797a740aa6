import FMAJSON
import FMAKubeModel
import Foundation

/// Objects as a `meta.k8s.io/v1` `Table`, the form `kubectl get` asks for
/// (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) and prints as it comes: the
/// server picks the columns, as a real cluster does for each kind. Columns with priority 1
/// appear only with `-o wide`.
struct TableConverter: Sendable {
    /// What each row carries besides its cells (`?includeObject=`).
    enum IncludeObject: String, Sendable {
        case none = "None"
        case metadata = "Metadata"
        case object = "Object"
    }

    struct Column: Sendable {
        var name: String
        var type: String = "string"
        var format: String = ""
        var priority: Int = 0
        var description: String
        var cell: @Sendable (JSONObject, Date) -> JSONValue
    }

    let includeObject: IncludeObject
    /// The time ages are measured to.
    let now: Date

    /// A table of `objects`, with the list's `resourceVersion` and `continue`.
    func table(_ kind: ResourceKind, _ objects: [JSONObject], resourceVersion: String?, continueToken: String? = nil) -> JSONObject {
        let columns = Self.columns(for: kind)
        var metadata = JSONObject()
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        if let continueToken { metadata["continue"] = .string(continueToken) }
        let definitions: [JSONValue] = columns.map { column in
            ["name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
             "description": .string(column.description), "priority": .int(Int64(column.priority))]
        }
        let rows: [JSONValue] = objects.map { object in
            var row: JSONObject = ["cells": .array(columns.map { $0.cell(object, now) })]
            switch includeObject {
            case .none: break
            case .metadata:
                row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                 "metadata": object["metadata"] ?? .object(JSONObject())]
            case .object:
                row["object"] = .object(object)
            }
            return .object(row)
        }
        return ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata),
                "columnDefinitions": .array(definitions), "rows": .array(rows)]
    }

    // MARK: - Columns per kind

    static let nameColumn = Column(name: "Name", format: "name", description: "Name must be unique within a namespace.") { object, _ in
        .string(object[path: ["metadata", "name"]]?.string ?? "")
    }

    static let ageColumn = Column(name: "Age", description: "The time since the object was created.") { object, now in
        .string(age(object[path: ["metadata", "creationTimestamp"]]?.string, now: now))
    }

    static func columns(for kind: ResourceKind) -> [Column] {
        switch (kind.group, kind.kind) {
        case ("", "Pod"): podColumns
        case ("", "Node"): nodeColumns
        case ("", "Namespace"):
            [nameColumn, Column(name: "Status", description: "The namespace's phase.") { object, _ in
                .string(object[path: ["status", "phase"]]?.string ?? "Active")
            }, ageColumn]
        case ("", "ConfigMap"):
            [nameColumn, Column(name: "Data", type: "integer", description: "The number of keys.") { object, _ in
                .int(Int64((object["data"]?.object?.count ?? 0) + (object["binaryData"]?.object?.count ?? 0)))
            }, ageColumn]
        case ("", "Secret"):
            [nameColumn, Column(name: "Type", description: "The secret's type.") { object, _ in
                .string(object["type"]?.string ?? "Opaque")
            }, Column(name: "Data", type: "integer", description: "The number of keys.") { object, _ in
                .int(Int64(object["data"]?.object?.count ?? 0))
            }, ageColumn]
        case ("", "ServiceAccount"):
            [nameColumn, Column(name: "Secrets", type: "integer", description: "The number of secrets.") { object, _ in
                .int(Int64(object["secrets"]?.array?.count ?? 0))
            }, ageColumn]
        case ("", "Service"): serviceColumns
        case ("", "Event"): eventColumns
        case ("apps", "ReplicaSet"): replicaSetColumns
        case ("apps", "Deployment"): deploymentColumns
        case ("apps", "DaemonSet"): daemonSetColumns
        case ("coordination.k8s.io", "Lease"):
            [nameColumn, Column(name: "Holder", description: "The lease's current holder.") { object, _ in
                .string(object[path: ["spec", "holderIdentity"]]?.string ?? "")
            }, ageColumn]
        default: [nameColumn, ageColumn]
        }
    }

    static let podColumns: [Column] = [
        nameColumn,
        Column(name: "Ready", description: "Ready containers out of all containers.") { object, _ in
            let total = object[path: ["spec", "containers"]]?.array?.count ?? 0
            let ready = object[path: ["status", "containerStatuses"]]?.array?.filter { $0["ready"]?.bool == true }.count ?? 0
            return .string("\(ready)/\(total)")
        },
        Column(name: "Status", description: "The pod's phase, or why it is not running.") { object, _ in
            .string(podStatus(object))
        },
        Column(name: "Restarts", type: "string", description: "Container restarts.") { object, _ in
            let restarts = object[path: ["status", "containerStatuses"]]?.array?.reduce(Int64(0)) { $0 + ($1["restartCount"]?.int ?? 0) } ?? 0
            return .string("\(restarts)")
        },
        ageColumn,
        Column(name: "IP", priority: 1, description: "The pod's IP address.") { object, _ in
            .string(object[path: ["status", "podIP"]]?.string ?? "<none>")
        },
        Column(name: "Node", priority: 1, description: "The node the pod is bound to.") { object, _ in
            .string(object[path: ["spec", "nodeName"]]?.string ?? "<none>")
        },
    ]

    /// The Status column as kubectl shows it: Terminating, a waiting or terminated container's
    /// reason, else the phase. A pod that has ended (Failed, Succeeded) shows its own reason
    /// (`OutOfpods`, `Evicted`) rather than a container still marked as waiting.
    static func podStatus(_ object: JSONObject) -> String {
        if object[path: ["metadata", "deletionTimestamp"]]?.string != nil { return "Terminating" }
        let phase = object[path: ["status", "phase"]]?.string
        var status = object[path: ["status", "reason"]]?.string ?? phase ?? "Pending"
        let ended = phase == "Failed" || phase == "Succeeded"
        for container in object[path: ["status", "containerStatuses"]]?.array ?? [] {
            if !ended, let reason = container[path: ["state", "waiting", "reason"]]?.string, !reason.isEmpty {
                status = reason
            } else if let reason = container[path: ["state", "terminated", "reason"]]?.string, !reason.isEmpty {
                status = reason
            }
        }
        return status
    }

    static let nodeColumns: [Column] = [
        nameColumn,
        Column(name: "Status", description: "Whether the node is Ready, and schedulable.") { object, _ in
            let ready = object[path: ["status", "conditions"]]?.array?.first { $0["type"]?.string == "Ready" }
            var status = switch ready?["status"]?.string {
            case "True": "Ready"
            case "False": "NotReady"
            default: "Unknown"
            }
            if object[path: ["spec", "unschedulable"]]?.bool == true { status += ",SchedulingDisabled" }
            return .string(status)
        },
        Column(name: "Roles", description: "The node's roles (node-role.kubernetes.io/ labels).") { object, _ in
            let prefix = "node-role.kubernetes.io/"
            let roles = (object[path: ["metadata", "labels"]]?.object?.keys ?? []).filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
            return .string(roles.isEmpty ? "<none>" : roles.sorted().joined(separator: ","))
        },
        ageColumn,
        Column(name: "Version", description: "The kubelet's version.") { object, _ in
            .string(object[path: ["status", "nodeInfo", "kubeletVersion"]]?.string ?? "")
        },
        Column(name: "Internal-IP", priority: 1, description: "The node's internal address.") { object, _ in
            let address = object[path: ["status", "addresses"]]?.array?.first { $0["type"]?.string == "InternalIP" }
            return .string(address?["address"]?.string ?? "<none>")
        },
    ]

    static let serviceColumns: [Column] = [
        nameColumn,
        Column(name: "Type", description: "The service's type.") { object, _ in
            .string(object[path: ["spec", "type"]]?.string ?? "ClusterIP")
        },
        Column(name: "Cluster-IP", description: "The service's cluster IP.") { object, _ in
            .string(object[path: ["spec", "clusterIP"]]?.string ?? "<none>")
        },
        Column(name: "Port(s)", description: "The service's ports.") { object, _ in
            let ports = object[path: ["spec", "ports"]]?.array?.map { port in
                "\(port["port"]?.int ?? 0)/\(port["protocol"]?.string ?? "TCP")"
            } ?? []
            return .string(ports.isEmpty ? "<none>" : ports.joined(separator: ","))
        },
        ageColumn,
    ]

    static let eventColumns: [Column] = [
        Column(name: "Last Seen", description: "When the event was last seen.") { object, now in
            let time = object["lastTimestamp"]?.string ?? object["eventTime"]?.string ?? object[path: ["metadata", "creationTimestamp"]]?.string
            return .string(age(time, now: now))
        },
        Column(name: "Type", description: "Normal or Warning.") { object, _ in .string(object["type"]?.string ?? "") },
        Column(name: "Reason", description: "Why the event happened.") { object, _ in .string(object["reason"]?.string ?? "") },
        Column(name: "Object", description: "The object the event is about.") { object, _ in
            let kind = object[path: ["involvedObject", "kind"]]?.string?.lowercased() ?? ""
            let name = object[path: ["involvedObject", "name"]]?.string ?? ""
            return .string("\(kind)/\(name)")
        },
        Column(name: "Message", description: "What happened.") { object, _ in .string(object["message"]?.string ?? "") },
    ]

    /// An integer column read at `path` (`fallback` when absent).
    static func count(_ name: String, _ path: [String], fallback: Int64 = 0) -> Column {
        Column(name: name, type: "integer", description: path.joined(separator: ".") + ".") { object, _ in
            .int(object[path: path]?.int ?? fallback)
        }
    }

    static let replicaSetColumns: [Column] = [
        nameColumn,
        count("Desired", ["spec", "replicas"], fallback: 1),
        count("Current", ["status", "replicas"]),
        count("Ready", ["status", "readyReplicas"]),
        ageColumn,
        Column(name: "Selector", priority: 1, description: "The pods the replica set owns.") { object, _ in
            let selector = try? LabelSelector(object: object[path: ["spec", "selector"]])
            return .string(selector?.description ?? "")
        },
    ]

    static let deploymentColumns: [Column] = [
        nameColumn,
        Column(name: "Ready", description: "Ready pods out of those wanted.") { object, _ in
            .string("\(object[path: ["status", "readyReplicas"]]?.int ?? 0)/\(object[path: ["spec", "replicas"]]?.int ?? 1)")
        },
        count("Up-to-date", ["status", "updatedReplicas"]),
        count("Available", ["status", "availableReplicas"]),
        ageColumn,
    ]

    static let daemonSetColumns: [Column] = [
        nameColumn,
        count("Desired", ["status", "desiredNumberScheduled"]),
        count("Current", ["status", "currentNumberScheduled"]),
        count("Ready", ["status", "numberReady"]),
        count("Up-to-date", ["status", "updatedNumberScheduled"]),
        count("Available", ["status", "numberAvailable"]),
        Column(name: "Node Selector", description: "The nodes the pods go to.") { object, _ in
            let selector = object[path: ["spec", "template", "spec", "nodeSelector"]]?.stringMap ?? [:]
            return .string(selector.isEmpty ? "<none>" : selector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        },
        ageColumn,
    ]

    // MARK: - Age

    /// The time since `timestamp` as kubectl shows it (`45s`, `3m12s`, `5h`, `2d3h`); `<unknown>`
    /// without a readable timestamp.
    static func age(_ timestamp: String?, now: Date) -> String {
        guard let timestamp, let date = KubeTime.date(timestamp) else { return "<unknown>" }
        return humanDuration(now.timeIntervalSince(date))
    }

    /// Kubernetes' `duration.HumanDuration`.
    static func humanDuration(_ interval: TimeInterval) -> String {
        let seconds = Int(interval)
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        let years = hours / 24 / 365
        if hours < 24 * 365 * 8 { return (hours / 24) % 365 == 0 ? "\(years)y" : "\(years)y\((hours / 24) % 365)d" }
        return "\(years)y"
    }
}
