public import FMAJSON
public import FMAKubeModel

/// One page of a list: the items, the store's resource version when it was taken, and where
/// the next page starts.
public struct StoreList: Sendable {
    public var items: [JSONObject]
    public var resourceVersion: String
    /// Pass as `continueToken` for the next page; `nil` on the last page.
    public var continueToken: String?
    /// Items after this page, when there is a next page.
    public var remainingItemCount: Int?
}

/// What a delete did: removed the object, or started its deletion (finalizers pending, or a
/// pod's grace period running), in which case the object now has a `deletionTimestamp`.
public enum StoreDeleteResult: Sendable {
    case deleted(JSONObject)
    case pending(JSONObject)

    public var object: JSONObject {
        switch self {
        case .deleted(let o), .pending(let o): o
        }
    }
}

/// A patch to apply to a stored object.
public enum StorePatch: Sendable {
    /// JSON merge patch (RFC 7386), `application/merge-patch+json`.
    case merge(JSONValue)
    /// JSON patch (RFC 6902), `application/json-patch+json`.
    case json(JSONPatch)
}

/// One change seen by a watch.
public struct StoreEvent: Sendable {
    public var type: WatchEventType
    public var object: JSONObject

    public init(type: WatchEventType, object: JSONObject) {
        self.type = type
        self.object = object
    }

    /// `{"type": ..., "object": ...}`, as a watch stream carries it.
    public var json: JSONObject {
        ["type": .string(type.rawValue), "object": .object(object)]
    }
}

/// The options of a delete (`meta/v1` DeleteOptions, or the same as query parameters).
public struct DeleteOptions: Sendable, Hashable {
    /// Seconds a pod gets to stop; 0 deletes at once. `nil`: the pod's own setting.
    public var gracePeriodSeconds: Int64?
    public var preconditionUID: String?
    public var preconditionResourceVersion: String?
    /// `Background` (default), `Foreground` (treated as Background here) or `Orphan`.
    public var propagationPolicy: String?
    public var dryRun: Bool

    public init(gracePeriodSeconds: Int64? = nil, preconditionUID: String? = nil, preconditionResourceVersion: String? = nil, propagationPolicy: String? = nil, dryRun: Bool = false) {
        self.gracePeriodSeconds = gracePeriodSeconds
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.propagationPolicy = propagationPolicy
        self.dryRun = dryRun
    }

    /// Reads a DeleteOptions object; wrong types are a 400 naming the field.
    public init(json: JSONObject) throws(KubeStatus) {
        self.init()
        if let grace = json["gracePeriodSeconds"], !grace.isNull {
            guard let value = grace.int, value >= 0 else { throw .badRequest("DeleteOptions.gracePeriodSeconds must be a non-negative integer") }
            gracePeriodSeconds = value
        }
        if let preconditions = json["preconditions"]?.object {
            preconditionUID = preconditions["uid"]?.string
            preconditionResourceVersion = preconditions["resourceVersion"]?.string
        }
        if let policy = json["propagationPolicy"], !policy.isNull {
            guard let text = policy.string, ["Background", "Foreground", "Orphan"].contains(text) else {
                throw .badRequest("DeleteOptions.propagationPolicy must be Background, Foreground or Orphan")
            }
            propagationPolicy = text
        }
        if json["orphanDependents"]?.bool == true, propagationPolicy == nil {
            propagationPolicy = "Orphan"
        }
        if let dryRun = json["dryRun"]?.array, dryRun.contains(.string("All")) {
            self.dryRun = true
        }
    }
}

/// Per-kind checks the store runs on every create, update and patch. A validator returns the
/// invalid fields (empty when the object is fine); the store answers 422 Invalid naming them
/// and stores nothing.
public struct Admission: Sendable {
    public typealias Validator = @Sendable (_ new: JSONObject, _ old: JSONObject?) -> [(field: String, message: String)]

    public var validators: [ResourceKind: Validator]

    public init(validators: [ResourceKind: Validator] = [:]) {
        self.validators = validators
    }
}
