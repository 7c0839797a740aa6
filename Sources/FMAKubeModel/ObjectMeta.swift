public import FMAJSON

/// The `metadata` of an object, as a typed view over its JSON: setting a field changes only
/// that member.
public struct ObjectMeta: Sendable, Hashable {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public var name: String {
        get { json["name"]?.string ?? "" }
        set { json["name"] = newValue.isEmpty ? nil : .string(newValue) }
    }

    public var generateName: String? {
        get { json["generateName"]?.string }
        set { json["generateName"] = newValue.map { .string($0) } }
    }

    /// Empty for cluster-scoped objects.
    public var namespace: String {
        get { json["namespace"]?.string ?? "" }
        set { json["namespace"] = newValue.isEmpty ? nil : .string(newValue) }
    }

    public var uid: String {
        get { json["uid"]?.string ?? "" }
        set { json["uid"] = newValue.isEmpty ? nil : .string(newValue) }
    }

    public var resourceVersion: String {
        get { json["resourceVersion"]?.string ?? "" }
        set { json["resourceVersion"] = newValue.isEmpty ? nil : .string(newValue) }
    }

    public var generation: Int64 {
        get { json["generation"]?.int ?? 0 }
        set { json["generation"] = .int(newValue) }
    }

    public var creationTimestamp: String? {
        get { json["creationTimestamp"]?.string }
        set { json["creationTimestamp"] = newValue.map { .string($0) } }
    }

    /// Set when deletion has begun (finalizers pending, or a pod's grace period running).
    public var deletionTimestamp: String? {
        get { json["deletionTimestamp"]?.string }
        set { json["deletionTimestamp"] = newValue.map { .string($0) } }
    }

    public var deletionGracePeriodSeconds: Int64? {
        get { json["deletionGracePeriodSeconds"]?.int }
        set { json["deletionGracePeriodSeconds"] = newValue.map { .int($0) } }
    }

    public var labels: [String: String] {
        get { json["labels"]?.stringMap ?? [:] }
        set { json["labels"] = newValue.isEmpty ? nil : JSONValue(stringMap: newValue) }
    }

    public var annotations: [String: String] {
        get { json["annotations"]?.stringMap ?? [:] }
        set { json["annotations"] = newValue.isEmpty ? nil : JSONValue(stringMap: newValue) }
    }

    /// One label's value, read without building the whole map (a hot path in controllers).
    public func label(_ key: String) -> String? {
        json["labels"]?[key]?.string
    }

    /// One annotation's value, read without building the whole map.
    public func annotation(_ key: String) -> String? {
        json["annotations"]?[key]?.string
    }

    public var finalizers: [String] {
        get { json["finalizers"]?.array?.compactMap(\.string) ?? [] }
        set { json["finalizers"] = newValue.isEmpty ? nil : .array(newValue.map { .string($0) }) }
    }

    public var ownerReferences: [OwnerReference] {
        get { json["ownerReferences"]?.array?.compactMap { $0.object.map(OwnerReference.init(json:)) } ?? [] }
        set { json["ownerReferences"] = newValue.isEmpty ? nil : .array(newValue.map { .object($0.json) }) }
    }

    /// `namespace/name`, or `name` when there is no namespace.
    public var key: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }
}

/// One entry of `metadata.ownerReferences`.
public struct OwnerReference: Sendable, Hashable {
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool = true) {
        json = ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name), "uid": .string(uid), "controller": .bool(controller), "blockOwnerDeletion": .bool(true)]
    }

    public var apiVersion: String { json["apiVersion"]?.string ?? "" }
    public var kind: String { json["kind"]?.string ?? "" }
    public var name: String { json["name"]?.string ?? "" }
    public var uid: String { json["uid"]?.string ?? "" }
    public var controller: Bool { json["controller"]?.bool ?? false }
}
