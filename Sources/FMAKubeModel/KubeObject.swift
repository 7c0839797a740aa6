public import FMAJSON

/// A Kubernetes object held as its JSON, with typed accessors on top. Everything the accessors
/// do not know stays in `json` untouched, so a read-modify-write never drops a field another
/// controller set.
public protocol KubeObject: Sendable, Hashable {
    /// The kind this type views (sets `apiVersion` and `kind` on new objects).
    static var resourceKind: ResourceKind { get }
    var json: JSONObject { get set }
    init(json: JSONObject)
}

extension KubeObject {
    /// A new object of this kind with `apiVersion`, `kind` and the given name and namespace.
    public init(name: String, namespace: String? = nil) {
        var json = JSONObject()
        json["apiVersion"] = .string(Self.resourceKind.apiVersion)
        json["kind"] = .string(Self.resourceKind.kind)
        self.init(json: json)
        metadata.name = name
        if let namespace { metadata.namespace = namespace }
    }

    public var apiVersion: String? { json["apiVersion"]?.string }
    public var kind: String? { json["kind"]?.string }

    public var metadata: ObjectMeta {
        get { ObjectMeta(json: json["metadata"]?.object ?? JSONObject()) }
        set { json["metadata"] = .object(newValue.json) }
    }

    /// `namespace/name`, or `name` for a cluster-scoped object: the key of caches and queues.
    public var key: String { metadata.key }

    /// Member access into the raw JSON for fields without a typed accessor.
    public subscript(path path: [String]) -> JSONValue? {
        get { json[path: path] }
        set { json[path: path] = newValue }
    }
}

/// Any object, for kinds without a typed view (or when the kind is only known at run time).
public struct UnstructuredObject: KubeObject {
    public static var resourceKind: ResourceKind { ResourceKind(group: "", version: "v1", kind: "Unknown", plural: "unknown", namespaced: true) }
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    /// Views an object of another type through this one.
    public init(_ object: some KubeObject) {
        self.json = object.json
    }
}
