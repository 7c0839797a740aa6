/// What a controller worker reconciles. Every key names its node: one node's keys run one at a
/// time (they share the node's GPUs and launchers), different nodes in parallel.
public enum WorkKey: Hashable, Sendable, CustomStringConvertible {
    /// An inference server, named by its requester's UID (and name).
    case server(uid: String, name: String, node: String)
    /// A launcher Pod changed, or its instances did.
    case launcher(podName: String, node: String)
    /// An InferenceServerConfig's spec changed: delete its obsolete sleeping instances on `node`.
    case instanceGC(isc: String, node: String)

    public var node: String {
        switch self {
        case .server(_, _, let node), .launcher(_, let node), .instanceGC(_, let node): node
        }
    }

    public var description: String {
        switch self {
        case .server(let uid, let name, let node): "server \(name) (\(uid)) on \(node)"
        case .launcher(let pod, let node): "launcher \(pod) on \(node)"
        case .instanceGC(let isc, let node): "instance GC of \(isc) on \(node)"
        }
    }
}

/// How a reconcile ended.
enum Outcome: Sendable, Equatable {
    /// Nothing more to do until something changes.
    case done
    /// Try again after the key's backoff.
    case retry
    /// Try again after exactly this delay (a server starting up).
    case retryAfter(Duration)
}
