public import FMAKubeModel
import NIOConcurrencyHelpers

/// An informer's local copy of the objects of one kind, keyed by `namespace/name`, with
/// custom indexes. Thread-safe; reads never touch the API server.
///
/// An index is a function from an object to the values it is found under (e.g. "pods by
/// node": `[pod.spec.nodeName]`); `byIndex(name, value)` returns the objects with that value.
public final class ObjectCache<T: KubeObject>: Sendable {
    public typealias IndexFunction = @Sendable (T) -> [String]

    struct Store {
        var objects: [String: T] = [:]
        var indexFunctions: [String: IndexFunction]
        /// index name → value → keys.
        var indices: [String: [String: Set<String>]] = [:]

        mutating func put(_ object: T) -> T? {
            let key = object.key
            let old = objects.updateValue(object, forKey: key)
            if let old { unindex(old, key: key) }
            index(object, key: key)
            return old
        }

        mutating func remove(_ key: String) -> T? {
            guard let old = objects.removeValue(forKey: key) else { return nil }
            unindex(old, key: key)
            return old
        }

        private mutating func index(_ object: T, key: String) {
            for (name, function) in indexFunctions {
                for value in function(object) {
                    indices[name, default: [:]][value, default: []].insert(key)
                }
            }
        }

        private mutating func unindex(_ object: T, key: String) {
            for (name, function) in indexFunctions {
                for value in function(object) {
                    indices[name]?[value]?.remove(key)
                    if indices[name]?[value]?.isEmpty == true { indices[name]?[value] = nil }
                }
            }
        }
    }

    let store: NIOLockedValueBox<Store>

    public init(indexes: [String: IndexFunction] = [:]) {
        store = NIOLockedValueBox(Store(indexFunctions: indexes))
    }

    /// The object with `key` (`namespace/name`, or `name` for cluster-scoped kinds).
    public func get(_ key: String) -> T? {
        store.withLockedValue { $0.objects[key] }
    }

    public func get(namespace: String?, name: String) -> T? {
        get(namespace.map { $0.isEmpty ? name : "\($0)/\(name)" } ?? name)
    }

    /// Every object, in no particular order.
    public func list() -> [T] {
        store.withLockedValue { Array($0.objects.values) }
    }

    public var keys: [String] {
        store.withLockedValue { Array($0.objects.keys) }
    }

    public var count: Int {
        store.withLockedValue { $0.objects.count }
    }

    /// The objects whose index `name` yields `value`; empty for an unknown index.
    public func byIndex(_ name: String, _ value: String) -> [T] {
        store.withLockedValue { store in
            (store.indices[name]?[value] ?? []).compactMap { store.objects[$0] }
        }
    }

    /// The values index `name` currently holds.
    public func indexValues(_ name: String) -> [String] {
        store.withLockedValue { Array(($0.indices[name] ?? [:]).keys) }
    }
}
