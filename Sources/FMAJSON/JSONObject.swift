/// A JSON object whose members keep the order they were inserted or parsed in. Lookups go
/// through a dictionary of positions, so large objects (a ConfigMap's data) stay fast.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)

    private var keyList: [String] = []
    private var values: [String: JSONValue] = [:]

    public init() {}

    /// Members in order; a repeated key keeps its first position and its last value.
    public init(_ members: some Sequence<(String, JSONValue)>) {
        for (key, value) in members {
            self[key] = value
        }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    public var keys: [String] { keyList }
    public var count: Int { keyList.count }
    public var isEmpty: Bool { keyList.isEmpty }

    /// The member `key`; assigning `nil` removes it, assigning a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get { values[key] }
        set {
            if let newValue {
                if values.updateValue(newValue, forKey: key) == nil {
                    keyList.append(key)
                }
            } else if values.removeValue(forKey: key) != nil {
                keyList.removeAll { $0 == key }
            }
        }
    }

    /// The member at a path of keys; setting creates intermediate objects (replacing any
    /// non-object found on the way), setting `nil` removes the last key only.
    public subscript(path path: [String]) -> JSONValue? {
        get {
            guard let first = path.first else { return .object(self) }
            return path.dropFirst().reduce(self[first]) { $0?[$1] }
        }
        set {
            guard let first = path.first else { return }
            if path.count == 1 {
                self[first] = newValue
                return
            }
            var child = self[first]?.object ?? JSONObject()
            if newValue == nil, self[first]?.object == nil { return }
            child[path: Array(path.dropFirst())] = newValue
            self[first] = .object(child)
        }
    }

    public func makeIterator() -> some IteratorProtocol<Element> {
        var index = 0
        let keys = keyList
        let values = values
        return AnyIterator {
            guard index < keys.count else { return nil }
            defer { index += 1 }
            return (keys[index], values[keys[index]]!)
        }
    }

    /// Equal members regardless of order (JSON objects are unordered).
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.values == rhs.values
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(values)
    }
}
