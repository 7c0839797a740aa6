public import FMAJSON
public import FMAKubeModel

/// A patch and its content type.
public enum KubePatch: Sendable, Hashable {
    /// RFC 7386 merge patch (`application/merge-patch+json`): objects merge, `null` removes a
    /// member, lists are replaced whole. Works on every kind, custom resources included.
    case merge(JSONValue)
    /// RFC 6902 JSON patch (`application/json-patch+json`): a list of operations; a `test`
    /// operation makes the patch conditional.
    case json(JSONPatch)
    /// Kubernetes' strategic merge patch (`application/strategic-merge-patch+json`): lists such
    /// as `containers` merge by key. Built-in kinds only.
    case strategicMerge(JSONValue)

    /// The merge patch that turns `old` into `new`: only the members that differ.
    public static func merge<T: KubeObject>(from old: T, to new: T) -> KubePatch {
        .merge(JSONValue.mergePatch(from: .object(old.json), to: .object(new.json)))
    }

    public var contentType: String {
        switch self {
        case .merge: "application/merge-patch+json"
        case .json: "application/json-patch+json"
        case .strategicMerge: "application/strategic-merge-patch+json"
        }
    }

    /// The request body.
    public var document: JSONValue {
        switch self {
        case .merge(let value), .strategicMerge(let value): value
        case .json(let patch): .array(patch.operations.map(Self.document))
        }
    }

    /// The pointer's text (`description` quotes it for messages; the wire wants it bare).
    private static func pointer(_ pointer: JSONPointer) -> JSONValue {
        .string(pointer.tokens.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined())
    }

    private static func document(_ operation: JSONPatch.Operation) -> JSONValue {
        switch operation {
        case .add(let path, let value): ["op": "add", "path": pointer(path), "value": value]
        case .remove(let path): ["op": "remove", "path": pointer(path)]
        case .replace(let path, let value): ["op": "replace", "path": pointer(path), "value": value]
        case .move(let from, let path): ["op": "move", "from": pointer(from), "path": pointer(path)]
        case .copy(let from, let path): ["op": "copy", "from": pointer(from), "path": pointer(path)]
        case .test(let path, let value): ["op": "test", "path": pointer(path), "value": value]
        }
    }
}
