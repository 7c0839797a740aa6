/// A JSON object whose members keep the order they were inserted or parsed in.
///
/// Members are stored in one array: most objects in Kubernetes resources have a handful of
/// members, and a linear search over them is faster and much smaller than a hash table (a
/// controller caching thousands of Pods holds hundreds of thousands of these). An object
/// that grows past `indexThreshold` members (a ConfigMap's data) also keeps a table of
/// positions, so lookups stay fast there too.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)

    /// Objects with more members than this keep a key → position table.
    static let indexThreshold = 12

    private var members: [Element] = []
    private var positions: [String: Int]?

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

    /// Drops the spare capacity appending left (up to half the member storage): a parsed
    /// object is kept, often for long, in a cache.
    public mutating func shrinkToFit() {
        members = members.exactlySized()
    }

    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    private func position(of key: String) -> Int? {
        if let positions { return positions[key] }
        return members.firstIndex { $0.key == key }
    }

    /// The member `key`; assigning `nil` removes it, assigning a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { members[$0].value } }
        set {
            if let newValue {
                if let at = position(of: key) {
                    members[at].value = newValue
                } else {
                    members.append((key, newValue))
                    if positions != nil {
                        positions?[key] = members.count - 1
                    } else if members.count > Self.indexThreshold {
                        positions = Dictionary(uniqueKeysWithValues: members.enumerated().map { ($0.element.key, $0.offset) })
                    }
                }
            } else if let at = position(of: key) {
                members.remove(at: at)
                if positions != nil {
                    positions = Dictionary(uniqueKeysWithValues: members.enumerated().map { ($0.element.key, $0.offset) })
                }
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

    public func makeIterator() -> IndexingIterator<[Element]> {
        members.makeIterator()
    }

    /// Equal members regardless of order (JSON objects are unordered).
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for (index, member) in lhs.members.enumerated() {
            // Same order is the common case: compare in place before searching.
            if index < rhs.members.count, rhs.members[index].key == member.key {
                guard rhs.members[index].value == member.value else { return false }
            } else {
                guard let value = rhs[member.key], value == member.value else { return false }
            }
        }
        return true
    }

    /// Hashes the members regardless of order, as `==` compares them.
    public func hash(into hasher: inout Hasher) {
        var combined = 0
        for member in members {
            var memberHasher = Hasher()
            memberHasher.combine(member.key)
            memberHasher.combine(member.value)
            combined ^= memberHasher.finalize()
        }
        hasher.combine(members.count)
        hasher.combine(combined)
    }
}
