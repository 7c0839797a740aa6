import FMAJSON
import FMAKubeModel
import Foundation

/// Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`),
/// for the few kinds kubectl's typed commands send that way: `DeleteOptions` (`kubectl drain`),
/// `Namespace` (`kubectl create namespace`), `ConfigMap` (`kubectl create configmap`), `Secret`
/// (`kubectl create secret generic`), `ServiceAccount` (`kubectl create serviceaccount`),
/// roles and bindings (`kubectl create role|clusterrole|rolebinding|clusterrolebinding`),
/// `SelfSubjectAccessReview` and `SelfSubjectRulesReview` (`kubectl auth can-i [--list]`) and `TokenRequest` (`kubectl create token`). The
/// body is the `k8s\0` magic and a `runtime.Unknown` (type meta, then the object's bytes); it
/// becomes the JSON object the rest of the server reads. Of the object metadata only name,
/// generateName, namespace, resourceVersion, labels, annotations and finalizers are read (all
/// these commands set). Other kinds are a 415 that names the JSON alternative.
enum ProtobufBody {
    static let mediaType = "application/vnd.kubernetes.protobuf"
    private static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    static func decode(_ bytes: [UInt8]) throws(KubeStatus) -> JSONObject {
        guard bytes.starts(with: magic) else { throw .badRequest("the protobuf body does not start with the k8s\\0 magic") }
        let decoded: (apiVersion: String, kind: String, object: JSONObject?)
        do throws(ProtoReader.Malformed) {
            decoded = try envelope(bytes[magic.count...])
        } catch {
            throw .badRequest("the protobuf body is malformed: \(error.message)")
        }
        guard var object = decoded.object else {
            throw .unsupportedMediaType("the body's Content-Type \(mediaType) is supported by fma-devcluster only for DeleteOptions, Namespace, ConfigMap, Secret, ServiceAccount, Role, ClusterRole, RoleBinding, ClusterRoleBinding, SelfSubjectAccessReview, SelfSubjectRulesReview and TokenRequest, not \(decoded.apiVersion) \(decoded.kind): send application/json (kubectl create -f FILE and apply -f FILE do)")
        }
        object["apiVersion"] = .string(decoded.apiVersion)
        object["kind"] = .string(decoded.kind)
        return object
    }

    /// The `runtime.Unknown`'s type and its object as JSON (nil for a kind not read here).
    private static func envelope(_ bytes: ArraySlice<UInt8>) throws(ProtoReader.Malformed) -> (apiVersion: String, kind: String, object: JSONObject?) {
        var apiVersion = ""
        var kind = ""
        var raw: ArraySlice<UInt8> = []
        var unknown = ProtoReader(bytes)
        while let (field, value) = try unknown.next() {
            switch field {
            case 1:
                var typeMeta = ProtoReader(try value.bytes())
                while let (field, value) = try typeMeta.next() {
                    if field == 1 { apiVersion = try value.string() }
                    if field == 2 { kind = try value.string() }
                }
            case 2: raw = try value.bytes()
            default: break
            }
        }
        switch (apiVersion, kind) {
        case ("v1", "DeleteOptions"), ("meta.k8s.io/v1", "DeleteOptions"): return (apiVersion, kind, try deleteOptions(raw))
        case ("v1", "Namespace"): return (apiVersion, kind, try namespace(raw))
        case ("v1", "ConfigMap"): return (apiVersion, kind, try configMap(raw))
        case ("v1", "Secret"): return (apiVersion, kind, try secret(raw))
        case ("v1", "ServiceAccount"): return (apiVersion, kind, try serviceAccount(raw))
        case ("rbac.authorization.k8s.io/v1", "Role"), ("rbac.authorization.k8s.io/v1", "ClusterRole"): return (apiVersion, kind, try role(raw))
        case ("rbac.authorization.k8s.io/v1", "RoleBinding"), ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"):
            return (apiVersion, kind, try roleBinding(raw))
        case ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): return (apiVersion, kind, try selfSubjectRulesReview(raw))
        case ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): return (apiVersion, kind, try selfSubjectAccessReview(raw))
        case ("authentication.k8s.io/v1", "TokenRequest"): return (apiVersion, kind, try tokenRequest(raw))
        default: return (apiVersion, kind, nil)
        }
    }

    private static func deleteOptions(_ bytes: ArraySlice<UInt8>) throws(ProtoReader.Malformed) -> JSONObject {
        var object = JSONObject()
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case 1: object["gracePeriodSeconds"] = .int(Int64(bitPattern: try value.varint()))
            case 2:
                var preconditions = JSONObject()
                var inner = ProtoReader(try value.bytes())
                while let (field, value) = try inner.next() {
                    if field == 1 { preconditions["uid"] = .string(try value.string()) }
                    if field == 2 { preconditions["resourceVersion"] = .string(try value.string()) }
                }
                object["preconditions"] = .object(preconditions)
            case 3: object["orphanDependents"] = .bool(try value.varint() != 0)
            case 4: object["propagationPolicy"] = .string(try value.string())
            case 5: object["dryRun"] = .array((object["dryRun"]?.array ?? []) + [.string(try value.string())])
            default: break
            }
        }
        return object
    }

    private static func namespace(_ bytes: ArraySlice<UInt8>) throws(ProtoReader.Malformed) -> JSONObject {
        var object = JSONObject()
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            if field == 1 { object["metadata"] = .object(try objectMeta(try value.bytes())) }
        }
        return object
    }

    private static func configMap(_ bytes: ArraySlice<UInt8>) throws(ProtoReader.Malformed) -> JSONObject {
        var object = JSONObject()
        var data = JSONObject()
        var binaryData = JSONObject()
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case 1: object["metadata"] = .object(try objectMeta(try value.bytes()))
            case 2:
                let (key, entry) = try mapEntry(try value.bytes())
                data[key] = .string(String(decoding: entry, as: UTF8.self))
            case 3:
                let (key, entry) = try mapEntry(try value.bytes())
                binaryData[key] = .string(Data(entry).base64EncodedString())
            case 4: object["immutable"] = .bool(try value.varint() != 0)
            default: break
            }
        }
        if !data.isEmpty { object["data"] = .object(data) }
        if !binaryData.isEmpty { object["binaryData"] = .object(binaryData) }
        return object
    }

    /// `data` (bytes, base64 in JSON), `type`, `stringData`, `immutable`.
    private static func secret(_ bytes: ArraySlice<UInt8>) throws(ProtoReader.Malformed) -> JSONObject {
        var object = JSONObject()
        var data = JSONObject()
        var stringData = JSONObject()
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case 1: object["metadata"] = .object(try objectMeta(try value.bytes()))
            case 2:
                let (key, entry) = try mapEntry(try value.bytes())
                data[key] = .string(Data(entry).base64EncodedString())
            case 3:
                let type = try value.string()
                if !type.isEmpty { object["type"] = .string(type) }
            case 4:
                let (key, entry) = try mapEntry(try value.bytes())
                stringData[key] = .string(String(decoding: entry, as: UTF8.self))
            case 5: object["immutable"] = .bool(try value.varint() != 0)
            default: break
            }
        }
        if !data.isEmpty { object["data"] = .object(data) }
        if !stringData.isEmpty { object["stringData"] = .object(stringData) }
        return object
    }

    /// `secrets` (ObjectReferences: kind 1, namespace 2, name 3, uid 4, apiVersion 5),
    /// `imagePullSecrets` (names), `automountServiceAccountToken`.
    private static func serviceAccount(_ bytes: ArraySlice<UInt8>) throws(ProtoReader.Malformed) -> JSONObject {
        var object = JSONObject()
        var secrets: [JSONValue] = []
        var pullSecrets: [JSONValue] = []
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case 1: object["metadata"] = .object(try objectMeta(try value.bytes()))
            case 2:
                secrets.append(.object(try strings(try value.bytes(), [
                    1: "kind", 2: "namespace", 3: "name", 4: "uid", 5: "apiVersion", 6: "resourceVersion", 7: "fieldPath",
                ])))
            case 3: pullSecrets.append(.object(try strings(try value.bytes(), [1: "name"])))
            case 4: object["automountServiceAccountToken"] = .bool(try value.varint() != 0)
            default: break
            }
        }
        if !secrets.isEmpty { object["secrets"] = .array(secrets) }
        if !pullSecrets.isEmpty { object["imagePullSecrets"] = .array(pullSecrets) }
        return object
    }

    /// The non-empty string fields of a message, named.
    static func strings(_ bytes: ArraySlice<UInt8>, _ names: [Int: String]) throws(ProtoReader.Malformed) -> JSONObject {
        var object = JSONObject()
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            guard let name = names[field] else { continue }
            let text = try value.string()
            if !text.isEmpty { object[name] = .string(text) }
        }
        return object
    }

    /// The parts of `ObjectMeta` a create sends; empty strings are left out, as JSON omits them.
    static func objectMeta(_ bytes: ArraySlice<UInt8>) throws(ProtoReader.Malformed) -> JSONObject {
        var meta = JSONObject()
        var labels = JSONObject()
        var annotations = JSONObject()
        var finalizers: [JSONValue] = []
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case 1, 2, 3, 6:
                let text = try value.string()
                let name = [1: "name", 2: "generateName", 3: "namespace", 6: "resourceVersion"][field] ?? ""
                if !text.isEmpty { meta[name] = .string(text) }
            case 11, 12:
                let (key, entry) = try mapEntry(try value.bytes())
                if field == 11 { labels[key] = .string(String(decoding: entry, as: UTF8.self)) }
                else { annotations[key] = .string(String(decoding: entry, as: UTF8.self)) }
            case 14: finalizers.append(.string(try value.string()))
            default: break
            }
        }
        if !labels.isEmpty { meta["labels"] = .object(labels) }
        if !annotations.isEmpty { meta["annotations"] = .object(annotations) }
        if !finalizers.isEmpty { meta["finalizers"] = .array(finalizers) }
        return meta
    }

    /// A map entry: key (field 1) and value (field 2), both length-delimited.
    private static func mapEntry(_ bytes: ArraySlice<UInt8>) throws(ProtoReader.Malformed) -> (String, ArraySlice<UInt8>) {
        var key = ""
        var value: ArraySlice<UInt8> = []
        var reader = ProtoReader(bytes)
        while let (field, item) = try reader.next() {
            if field == 1 { key = try item.string() }
            if field == 2 { value = try item.bytes() }
        }
        return (key, value)
    }
}

/// The protobuf wire format, field by field: varints and length-delimited values; fixed-width
/// values are skipped over, groups are malformed (Kubernetes uses none).
struct ProtoReader {
    struct Malformed: Error {
        var message: String
    }

    enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed

        func varint() throws(Malformed) -> UInt64 {
            guard case .varint(let value) = self else { throw Malformed(message: "expected a varint") }
            return value
        }

        func bytes() throws(Malformed) -> ArraySlice<UInt8> {
            guard case .bytes(let value) = self else { throw Malformed(message: "expected a length-delimited field") }
            return value
        }

        func string() throws(Malformed) -> String {
            String(decoding: try bytes(), as: UTF8.self)
        }
    }

    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    /// The next field's number and value, or nil at the end.
    mutating func next() throws(Malformed) -> (Int, Value)? {
        guard !bytes.isEmpty else { return nil }
        let key = try readVarint()
        let field = Int(truncatingIfNeeded: key >> 3)
        switch key & 7 {
        case 0: return (field, .varint(try readVarint()))
        case 1: try skip(8); return (field, .fixed)
        case 2:
            let length = try readVarint()
            guard length <= UInt64(bytes.count) else { throw Malformed(message: "field \(field) is longer than the body") }
            let value = bytes.prefix(Int(length))
            bytes = bytes.dropFirst(Int(length))
            return (field, .bytes(value))
        case 5: try skip(4); return (field, .fixed)
        default: throw Malformed(message: "field \(field) has unsupported wire type \(key & 7)")
        }
    }

    private mutating func skip(_ count: Int) throws(Malformed) {
        guard bytes.count >= count else { throw Malformed(message: "a fixed-width field is cut off") }
        bytes = bytes.dropFirst(count)
    }

    private mutating func readVarint() throws(Malformed) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            guard shift < 64 else { throw Malformed(message: "a varint is longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        throw Malformed(message: "a varint is cut off")
    }
}
