extension JSONValue {
    /// This value with a JSON merge patch (RFC 7386) applied: an object patch merges member by
    /// member, `null` removes a member, anything else replaces the target whole.
    public func applyingMergePatch(_ patch: JSONValue) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }
        var result = object ?? JSONObject()
        for (key, patchValue) in patchObject {
            if patchValue.isNull {
                result[key] = nil
            } else {
                result[key] = (result[key] ?? .null).applyingMergePatch(patchValue)
            }
        }
        return .object(result)
    }

    /// The merge patch that turns `original` into `modified` (`null` for removed members;
    /// arrays and non-objects are replaced whole). Empty object when nothing changed.
    public static func mergePatch(from original: JSONValue, to modified: JSONValue) -> JSONValue {
        guard let from = original.object, let to = modified.object else { return modified }
        var patch = JSONObject()
        for key in from.keys where to[key] == nil {
            patch[key] = .null
        }
        for (key, newValue) in to {
            guard let oldValue = from[key] else {
                patch[key] = newValue
                continue
            }
            if oldValue == newValue { continue }
            if oldValue.object != nil, newValue.object != nil {
                patch[key] = mergePatch(from: oldValue, to: newValue)
            } else {
                patch[key] = newValue
            }
        }
        return .object(patch)
    }
}
