import FMAHTTPServer
import FMAJSON
import FMAKubeModel

/// The `binding` subresource of pods: how a scheduler other than the built-in one assigns a pod
/// to a node (`POST pods/NAME/binding` with a `v1 Binding` whose target is the node). As in
/// Kubernetes, only an unassigned pod that is not being deleted can be bound, and binding also
/// sets its `PodScheduled` condition.
extension KubeAPI {
    func bind(namespace: String, name: String, _ request: HTTPRequest) throws(KubeStatus) -> HTTPResponse {
        guard request.method == .POST else { throw .methodNotAllowed(request.method.rawValue, "pods/binding") }
        let binding = try decodeJSONBody(request)
        if let kind = binding["kind"]?.string, kind != "Binding" {
            throw .badRequest("the body's kind is \(kind), but the binding subresource takes a Binding")
        }
        if let given = binding[path: ["metadata", "name"]]?.string, !given.isEmpty, given != name {
            throw .badRequest("the Binding's metadata.name \"\(given)\" does not match the pod \"\(name)\" of the URL")
        }
        let targetKind = binding[path: ["target", "kind"]]?.string ?? ""
        guard targetKind.isEmpty || targetKind == "Node" else {
            throw .invalid(.pod, name: name, causes: [("target.kind", "must be Node, not \(targetKind)")])
        }
        guard let node = binding[path: ["target", "name"]]?.string, !node.isEmpty else {
            throw .invalid(.pod, name: name, causes: [("target.name", "Required value: the node to bind the pod to")])
        }
        let options = try WriteOptions(query: request.query)
        let current = try store.get(.pod, namespace: namespace, name: name)
        try Self.checkBindable(current, name: name)
        if !options.dryRun {
            _ = try store.mutate(.pod, namespace: namespace, name: name, subresource: "binding") { (object) throws(KubeStatus) in
                try Self.checkBindable(object, name: name)
                object[path: ["spec", "nodeName"]] = .string(node)
            }
            _ = try store.mutate(.pod, namespace: namespace, name: name, subresource: "status") { (object) throws(KubeStatus) in
                var pod = Pod(json: object)
                pod.status.setCondition(Condition(type: "PodScheduled", status: true, lastTransitionTime: Timestamp.now()))
                object = pod.json
            }
        }
        var status = KubeStatus(code: 201, reason: .unknown, message: "").json
        status["reason"] = nil
        status["message"] = nil
        return APIResponse.json(status, status: .created)
    }

    private static func checkBindable(_ object: JSONObject, name: String) throws(KubeStatus) {
        if object[path: ["metadata", "deletionTimestamp"]] != nil {
            throw .conflict(.pod, name: name, "pod \(name) is being deleted, cannot be assigned to a host")
        }
        if let assigned = object[path: ["spec", "nodeName"]]?.string, !assigned.isEmpty {
            throw .conflict(.pod, name: name, "pod \(name) is already assigned to node \"\(assigned)\"")
        }
    }
}
