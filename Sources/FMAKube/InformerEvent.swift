public import FMAKubeModel

/// A change an informer saw, as its handlers receive it.
public enum InformerEvent<T: KubeObject>: Sendable {
    case added(T)
    /// The object changed (its resourceVersion differs from the cached one).
    case updated(old: T, new: T)
    /// The object is gone; this is its last known state.
    case deleted(T)

    /// The object as it is now (the last known state for `deleted`).
    public var object: T {
        switch self {
        case .added(let object), .deleted(let object): object
        case .updated(_, let new): new
        }
    }

    /// `namespace/name` of the object: what a handler puts on a work queue.
    public var key: String { object.key }
}
