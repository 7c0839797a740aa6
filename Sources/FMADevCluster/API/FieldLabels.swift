import FMAKubeModel

/// The fields each kind can be selected by (`?fieldSelector=`), as the Kubernetes API server
/// allows them; any other field is a 400, not a silently empty answer.
enum FieldLabels {
    private static let common: Set<String> = ["metadata.name", "metadata.namespace"]

    private static let byKind: [ResourceKind: Set<String>] = [
        .pod: ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork",
               "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"],
        .event: ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                 "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                 "reason", "reportingComponent", "source", "type"],
        .node: ["spec.unschedulable"],
        .namespace: ["status.phase"],
        .replicaSet: ["status.replicas"],
        .service: ["spec.clusterIP", "spec.type"],
    ]

    /// Fields whose selector name is not their path in the stored object, per kind.
    private static let paths: [ResourceKind: [String: String]] = [
        .event: ["source": "source.component"],
        .eventsV1: EventsV1Fields.fieldLabels,
    ]

    /// `selector` checked against what `kind` supports, with field names turned into the
    /// paths the store reads.
    static func check(_ selector: FieldSelector, for kind: ResourceKind) throws(KubeStatus) -> FieldSelector {
        let allowed = common.union(byKind[kind] ?? []).union(paths[kind].map { Set($0.keys) } ?? [])
        var checked = selector
        for index in checked.requirements.indices {
            let field = checked.requirements[index].field
            guard allowed.contains(field) else {
                throw KubeStatus.badRequest("field label not supported: \(field) (\(kind) can be selected by \(allowed.sorted().joined(separator: ", ")))")
            }
            checked.requirements[index].field = paths[kind]?[field] ?? field
        }
        return checked
    }
}
