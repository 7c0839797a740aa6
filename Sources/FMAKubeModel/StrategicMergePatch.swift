public import FMAJSON

/// Kubernetes' strategic merge patch (`application/strategic-merge-patch+json`) for built-in
/// kinds: maps merge as in a merge patch (null deletes), and a list merges by its field's
/// strategy — element by element on the merge key for the lists Kubernetes declares so
/// (`containers` by `name`, container `ports` by `containerPort`, `volumeMounts` by
/// `mountPath`, `conditions` by `type`, ...), as a set for `finalizers`, and replaced whole
/// otherwise. Directives: `$patch: replace|delete|merge` on a map or list element,
/// `$setElementOrder/FIELD`, `$deleteFromPrimitiveList/FIELD` and `$retainKeys`.
public enum StrategicMergePatch {
    public enum ListStrategy: Equatable, Sendable {
        case replace
        case mergeByKey(String)
        case set
    }

    /// The strategy of a list field, from Kubernetes' `patchStrategy`/`patchMergeKey` tags of
    /// the core and apps types (the field name decides; `ports` by what its elements hold).
    public static func strategy(of field: String, elements: [JSONValue]) -> ListStrategy {
        switch field {
        case "containers", "initContainers", "ephemeralContainers", "env", "volumes", "imagePullSecrets", "resourceClaims":
            return .mergeByKey("name")
        case "volumeMounts": return .mergeByKey("mountPath")
        case "volumeDevices": return .mergeByKey("devicePath")
        case "hostAliases": return .mergeByKey("ip")
        case "ownerReferences": return .mergeByKey("uid")
        case "conditions", "addresses": return .mergeByKey("type")
        case "topologySpreadConstraints": return .mergeByKey("topologyKey")
        case "ports":
            let container = elements.contains { $0.object?["containerPort"] != nil }
            return .mergeByKey(container ? "containerPort" : "port")
        case "finalizers": return .set
        default: return .replace
        }
    }

    public static func apply(_ patch: JSONValue, to original: JSONObject) throws(KubeStatus) -> JSONObject {
        guard let object = patch.object else {
            throw .badRequest("a strategic merge patch must be a JSON object, got \(patch.typeName)")
        }
        return try merge(original, object, path: "")
    }

    private static func merge(_ original: JSONObject, _ patch: JSONObject, path: String) throws(KubeStatus) -> JSONObject {
        switch patch["$patch"]?.string {
        case nil, "merge": break
        case "replace":
            var replacement = JSONObject()
            for (key, value) in patch where !key.hasPrefix("$") { replacement[key] = value }
            return replacement
        case "delete": return JSONObject()
        case let other?: throw .badRequest("unknown $patch directive \"\(other)\" at \(display(path)); use replace, delete or merge")
        }
        var result = original
        for (key, value) in patch where !key.hasPrefix("$") {
            let fieldPath = path.isEmpty ? key : "\(path).\(key)"
            switch value {
            case .null:
                result[key] = nil
            case .object(let member):
                if member["$patch"]?.string == "delete" {
                    result[key] = nil
                } else {
                    result[key] = .object(try merge(result[key]?.object ?? JSONObject(), member, path: fieldPath))
                }
            case .array(let elements):
                result[key] = .array(try mergeList(field: key, original: result[key]?.array ?? [], patch: elements, path: fieldPath))
            default:
                result[key] = value
            }
        }
        for (key, value) in patch where key.hasPrefix("$deleteFromPrimitiveList/") {
            let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
            let doomed = value.array ?? []
            if let list = result[field]?.array { result[field] = .array(list.filter { !doomed.contains($0) }) }
        }
        for (key, value) in patch where key.hasPrefix("$setElementOrder/") {
            let field = String(key.dropFirst("$setElementOrder/".count))
            guard let list = result[field]?.array, let order = value.array else { continue }
            result[field] = .array(ordered(list, by: order, strategy: strategy(of: field, elements: list + order)))
        }
        if let retained = patch["$retainKeys"]?.array {
            let keep = Set(retained.compactMap(\.string))
            var kept = JSONObject()
            for (key, value) in result where keep.contains(key) { kept[key] = value }
            result = kept
        }
        return result
    }

    private static func mergeList(field: String, original: [JSONValue], patch: [JSONValue], path: String) throws(KubeStatus) -> [JSONValue] {
        if patch.contains(where: { $0.object?["$patch"]?.string == "replace" }) {
            return patch.filter { $0.object?["$patch"] == nil }
        }
        switch strategy(of: field, elements: original + patch) {
        case .replace:
            return patch
        case .set:
            var result = original
            for element in patch where !result.contains(element) { result.append(element) }
            return result
        case .mergeByKey(let mergeKey):
            var result = original
            for (index, element) in patch.enumerated() {
                guard let object = element.object else {
                    throw .badRequest("\(display(path))[\(index)] must be an object: the list merges its elements by \(mergeKey)")
                }
                guard let key = object[mergeKey] else {
                    throw .badRequest("\(display(path))[\(index)] does not contain the merge key \(mergeKey) of \(field)")
                }
                let match = result.firstIndex { $0.object?[mergeKey] == key }
                if object["$patch"]?.string == "delete" {
                    result.removeAll { $0.object?[mergeKey] == key }
                } else if let match {
                    result[match] = .object(try merge(result[match].object ?? JSONObject(), object, path: "\(path)[\(index)]"))
                } else {
                    result.append(.object(try merge(JSONObject(), object, path: "\(path)[\(index)]")))
                }
            }
            return result
        }
    }

    /// `list` with the elements named in `order` first, in that order, then the rest as they were.
    private static func ordered(_ list: [JSONValue], by order: [JSONValue], strategy: ListStrategy) -> [JSONValue] {
        func identity(_ element: JSONValue) -> JSONValue {
            if case .mergeByKey(let key) = strategy { return element.object?[key] ?? element }
            return element
        }
        let wanted = order.map(identity)
        var first: [JSONValue] = []
        for name in wanted {
            first.append(contentsOf: list.filter { Self.identityMatches($0, name, strategy) })
        }
        let rest = list.filter { element in !wanted.contains { Self.identityMatches(element, $0, strategy) } }
        return first + rest
    }

    private static func identityMatches(_ element: JSONValue, _ identity: JSONValue, _ strategy: ListStrategy) -> Bool {
        if case .mergeByKey(let key) = strategy { return element.object?[key] == identity }
        return element == identity
    }

    private static func display(_ path: String) -> String {
        path.isEmpty ? "the patch" : path
    }
}
