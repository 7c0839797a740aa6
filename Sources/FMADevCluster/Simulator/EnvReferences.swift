import FMAJSON
import FMAKubeModel
import Foundation

/// The values of a container's `env[].valueFrom.secretKeyRef` and `configMapKeyRef`, read from
/// the store in the pod's namespace as a kubelet reads them. A missing object or key that is
/// not `optional: true` is the kubelet's CreateContainerConfigError, worded as it words it.
struct EnvReferences: Sendable {
    /// Why the container's configuration cannot be built (its waiting reason's message).
    struct Missing: Error, Sendable {
        var message: String
    }

    let store: ObjectStore
    let namespace: String

    /// The value `valueFrom` names; nil for an optional reference that is absent (the variable
    /// is then not set), and for kinds of reference not read here.
    func value(_ valueFrom: JSONValue) throws(Missing) -> String? {
        if let reference = valueFrom["secretKeyRef"]?.object {
            return try read(.secret, reference) { data, key in
                data["data"]?[key]?.string.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
            }
        }
        if let reference = valueFrom["configMapKeyRef"]?.object {
            return try read(.configMap, reference) { data, key in data["data"]?[key]?.string }
        }
        return nil
    }

    private func read(_ kind: ResourceKind, _ reference: JSONObject, _ lookup: (JSONObject, String) -> String?) throws(Missing) -> String? {
        let name = reference["name"]?.string ?? ""
        let key = reference["key"]?.string ?? ""
        let optional = reference["optional"]?.bool ?? false
        guard let object = try object(kind, name: name, optional: optional) else { return nil }
        guard let value = lookup(object, key) else {
            if optional { return nil }
            throw missingKey(kind, name: name, key: key)
        }
        return value
    }

    /// The Secret or ConfigMap `name`; nil when it is absent and `optional`.
    func object(_ kind: ResourceKind, name: String, optional: Bool) throws(Missing) -> JSONObject? {
        guard let object = try? store.get(kind, namespace: namespace, name: name) else {
            if optional { return nil }
            throw Missing(message: "\(kind == .secret ? "secret" : "configmap") \"\(name)\" not found")
        }
        return object
    }

    /// The kubelet's words for a key the Secret or ConfigMap `name` lacks.
    func missingKey(_ kind: ResourceKind, name: String, key: String) -> Missing {
        Missing(message: "couldn't find key \(key) in \(kind == .secret ? "Secret" : "ConfigMap") \(namespace)/\(name)")
    }
}
