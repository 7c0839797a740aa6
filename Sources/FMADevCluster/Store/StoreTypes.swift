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
