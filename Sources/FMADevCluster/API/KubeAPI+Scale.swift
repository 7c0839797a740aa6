import FMAHTTPServer
import FMAJSON
import FMAKubeModel

/// The `scale` subresource: an `autoscaling/v1` `Scale` view of an object's `spec.replicas`
/// (and `status.replicas`, `status.selector`), so `kubectl scale` works.
extension KubeAPI {
    func scale(_ kind: ResourceKind, namespace: String, name: String, _ request: HTTPRequest) throws(KubeStatus) -> HTTPResponse {
        switch request.method {
        case .GET, .HEAD:
            return APIResponse.json(Self.scaleObject(of: try store.get(kind, namespace: namespace, name: name)))
        case .PUT:
            let options = try WriteOptions(query: request.query)
            let scale = try decodeJSONBody(request)
            if let given = scale["kind"]?.string, given != "Scale" { throw .badRequest("the body's kind is \(given), but the scale subresource takes a Scale") }
            let replicas = try Self.replicas(in: scale, kind: kind, name: name)
            let precondition = scale[path: ["metadata", "resourceVersion"]]?.string
            return try setReplicas(kind, namespace: namespace, name: name, dryRun: options.dryRun) { (object) throws(KubeStatus) -> Int64 in
                if let precondition, !precondition.isEmpty, precondition != object[path: ["metadata", "resourceVersion"]]?.string {
                    throw .conflict(kind, name: name, "the object has been modified; please apply your changes to the latest version and try again")
                }
                return replicas
            }
        case .PATCH:
            let options = try WriteOptions(query: request.query)
            // The Scale is autoscaling/v1's own kind, so it takes a strategic merge patch.
            let patch = try PatchRequest.parse(request, kind: .replicaSet)
            return try setReplicas(kind, namespace: namespace, name: name, dryRun: options.dryRun) { (object) throws(KubeStatus) -> Int64 in
                let current = JSONValue.object(Self.scaleObject(of: object))
                let patched: JSONValue
                switch patch {
                case .merge(let merge):
                    patched = current.applyingMergePatch(merge)
                case .strategic(let strategic):
                    patched = .object(try StrategicMergePatch.apply(strategic, to: current.object ?? JSONObject()))
                case .json(let jsonPatch):
                    do throws(JSONError) { patched = try jsonPatch.apply(to: current) } catch {
                        throw KubeStatus(code: 422, reason: .invalid, message: "the JSON patch could not be applied to the Scale: \(error.message)")
                    }
                }
                guard let scale = patched.object else { throw .badRequest("the patched Scale is not an object") }
                return try Self.replicas(in: scale, kind: kind, name: name)
            }
        default:
            throw .methodNotAllowed(request.method.rawValue, "\(kind.description)/scale")
        }
    }

    /// Sets `spec.replicas` to what `replicas` decides from the current object, atomically;
    /// answers the new Scale. A dry run answers the Scale it would make and stores nothing.
    private func setReplicas(_ kind: ResourceKind, namespace: String, name: String, dryRun: Bool,
                             _ replicas: (JSONObject) throws(KubeStatus) -> Int64) throws(KubeStatus) -> HTTPResponse {
        if dryRun {
            var object = try store.get(kind, namespace: namespace, name: name)
            object[path: ["spec", "replicas"]] = .int(try replicas(object))
            return APIResponse.json(Self.scaleObject(of: object))
        }
        let updated = try store.mutate(kind, namespace: namespace, name: name) { (object) throws(KubeStatus) in
            object[path: ["spec", "replicas"]] = .int(try replicas(object))
        }
        return APIResponse.json(Self.scaleObject(of: updated))
    }

    /// `spec.replicas` of a Scale: a non-negative integer, else 422.
    private static func replicas(in scale: JSONObject, kind: ResourceKind, name: String) throws(KubeStatus) -> Int64 {
        guard let value = scale[path: ["spec", "replicas"]] else {
            throw .invalid(kind, name: name, causes: [("spec.replicas", "Required value")])
        }
        guard let replicas = value.int, replicas >= 0, replicas <= Int64(Int32.max) else {
            throw .invalid(kind, name: name, causes: [("spec.replicas", "Invalid value: \(value.serializedString()): must be a non-negative 32-bit integer")])
        }
        return replicas
    }

    /// The `autoscaling/v1` Scale of an object with `spec.replicas` and `spec.selector`.
    static func scaleObject(of object: JSONObject) -> JSONObject {
        let metadata = object["metadata"]?.object ?? JSONObject()
        var scaleMetadata = JSONObject()
        for key in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            if let value = metadata[key] { scaleMetadata[key] = value }
        }
        var status: JSONObject = ["replicas": .int(object[path: ["status", "replicas"]]?.int ?? 0)]
        if let selector = try? LabelSelector(object: object[path: ["spec", "selector"]]), !selector.isEverything {
            status["selector"] = .string(selector.description)
        }
        return ["kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": .object(scaleMetadata),
                "spec": ["replicas": .int(object[path: ["spec", "replicas"]]?.int ?? 1)], "status": .object(status)]
    }
}
