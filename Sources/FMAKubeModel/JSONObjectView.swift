public import FMAJSON

/// A typed view over a JSON object: a part of a Kubernetes object (a container, a probe, a
/// taint) whose accessors read and write members of `json`, leaving every other member as it
/// was. Views nest: a `Pod`'s `spec` is a `PodSpec` view over `json["spec"]`, and setting it
/// writes the whole sub-object back.
public protocol JSONObjectView: Sendable, Hashable {
    var json: JSONObject { get set }
    init(json: JSONObject)
}

// Accessor helpers shared by the typed models. Setters follow one rule: `nil` (or an empty
// collection) removes the member, so an unset field is absent rather than `null` or `[]`.
extension JSONObject {
    func string(_ key: String) -> String? { self[key]?.string }

    mutating func setString(_ key: String, _ value: String?) {
        self[key] = value.map { .string($0) }
    }

    func int(_ key: String) -> Int64? { self[key]?.int }

    mutating func setInt(_ key: String, _ value: Int64?) {
        self[key] = value.map { .int($0) }
    }

    func bool(_ key: String) -> Bool? { self[key]?.bool }

    mutating func setBool(_ key: String, _ value: Bool?) {
        self[key] = value.map { .bool($0) }
    }

    func strings(_ key: String) -> [String] { self[key]?.array?.compactMap(\.string) ?? [] }

    mutating func setStrings(_ key: String, _ value: [String]) {
        self[key] = value.isEmpty ? nil : .array(value.map { .string($0) })
    }

    /// A string map; quantities written as numbers (`"cpu": 2`) read as their text.
    func stringMap(_ key: String) -> [String: String] {
        guard let object = self[key]?.object else { return [:] }
        var map: [String: String] = [:]
        for (k, v) in object {
            switch v {
            case .string(let s): map[k] = s
            case .int(let i): map[k] = String(i)
            case .double(let d): map[k] = String(d)
            default: break
            }
        }
        return map
    }

    mutating func setStringMap(_ key: String, _ value: [String: String]) {
        self[key] = value.isEmpty ? nil : JSONValue(stringMap: value)
    }

    func view<V: JSONObjectView>(_ key: String) -> V? { self[key]?.object.map(V.init(json:)) }

    /// The sub-object `key` as a view; an absent member reads as an empty view.
    func viewOrEmpty<V: JSONObjectView>(_ key: String) -> V { V(json: self[key]?.object ?? JSONObject()) }

    mutating func setView(_ key: String, _ value: (some JSONObjectView)?) {
        self[key] = value.map { .object($0.json) }
    }

    /// Sets a view that reads as empty when absent: an empty view removes the member.
    mutating func setViewOrRemove(_ key: String, _ value: some JSONObjectView) {
        self[key] = value.json.isEmpty ? nil : .object(value.json)
    }

    func views<V: JSONObjectView>(_ key: String) -> [V] {
        self[key]?.array?.compactMap { $0.object.map(V.init(json:)) } ?? []
    }

    mutating func setViews(_ key: String, _ value: [some JSONObjectView]) {
        self[key] = value.isEmpty ? nil : .array(value.map { .object($0.json) })
    }
}

extension ObjectMeta: JSONObjectView {}
extension OwnerReference: JSONObjectView {}
