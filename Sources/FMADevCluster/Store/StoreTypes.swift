public import FMAJSON
public import FMAKubeModel
import Synchronization

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
    /// Kubernetes' strategic merge patch, `application/strategic-merge-patch+json` (built-in kinds).
    case strategic(JSONValue)

    /// `object` with the patch applied; a patch that does not apply is a 400 or 422.
    func apply(to object: JSONObject) throws(KubeStatus) -> JSONObject {
        let patched: JSONValue
        switch self {
        case .merge(let value):
            guard value.object != nil else { throw KubeStatus.badRequest("a merge patch must be a JSON object, got \(value.typeName)") }
            patched = JSONValue.object(object).applyingMergePatch(value)
        case .strategic(let value):
            patched = .object(try StrategicMergePatch.apply(value, to: object))
        case .json(let jsonPatch):
            do {
                patched = try jsonPatch.apply(to: .object(object))
            } catch {
                throw KubeStatus(code: 422, reason: .invalid, message: "the JSON patch cannot be applied: \(error.message)")
            }
        }
        guard let result = patched.object else { throw KubeStatus.badRequest("the patch did not leave an object") }
        return result
    }
}

/// One change seen by a watch.
public struct StoreEvent: Sendable {
    public var type: WatchEventType
    public var object: JSONObject {
        didSet { serialized = nil }
    }
    /// `object` as JSON text, shared by every watch that sees the same change (nil once
    /// `object` is replaced).
    private var serialized: SerializedObject?

    public init(type: WatchEventType, object: JSONObject) {
        self.type = type
        self.object = object
    }

    init(type: WatchEventType, object: SerializedObject) {
        self.type = type
        self.object = object.object
        serialized = object
    }

    /// `{"type": ..., "object": ...}`, as a watch stream carries it.
    public var json: JSONObject {
        ["type": .string(type.rawValue), "object": .object(object)]
    }

    /// Appends `json` as compact JSON text to `out`; the object is serialized once per change
    /// however many watches write it.
    func serialize(into out: inout [UInt8]) {
        guard let serialized else { return JSONValue.object(json).serialize(into: &out) }
        // What `json` serializes to: the type and the object's text.
        out.append(contentsOf: #"{"type":""#.utf8)
        out.append(contentsOf: type.rawValue.utf8)
        out.append(contentsOf: #"","object":"#.utf8)
        out.append(contentsOf: serialized.bytes)
        out.append(UInt8(ascii: "}"))
    }
}

/// An object and its compact JSON text, made on first use.
final class SerializedObject: Sendable {
    let object: JSONObject
    private let text = Mutex<[UInt8]?>(nil)

    init(_ object: JSONObject) {
        self.object = object
    }

    var bytes: [UInt8] {
        text.withLock { text in
            if let text { return text }
            let bytes = object.serialized()
            text = bytes
            return bytes
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
