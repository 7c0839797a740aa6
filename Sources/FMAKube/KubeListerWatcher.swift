public import FMAKubeModel

/// The source an `Informer` lists and watches: a seam, so an informer runs against the API
/// server (`KubeListerWatcher`) or against a fake in tests.
public protocol ListerWatcher<Object>: Sendable {
    associatedtype Object: KubeObject
    associatedtype Events: AsyncSequence, Sendable where Events.Element == WatchEvent<Object>

    /// One page of the list (`continue` is the previous page's token).
    func list(limit: Int?, continue: String?) async throws(KubeError) -> ObjectList<Object>

    /// Changes after `resourceVersion`, with bookmarks. The sequence ends when the server
    /// ends the watch; it throws a `KubeError` whose `isGone` is true when the version is too
    /// old.
    func watch(resourceVersion: String) async throws(KubeError) -> Events
}

/// Lists and watches one kind through a `KubeClient`, with optional selectors.
public struct KubeListerWatcher<T: KubeObject>: ListerWatcher {
    public let client: KubeClient
    public let namespace: String?
    public let labelSelector: LabelSelector?
    public let fieldSelector: FieldSelector?
    public let kind: ResourceKind?

    public init(client: KubeClient, namespace: String? = nil, labelSelector: LabelSelector? = nil,
                fieldSelector: FieldSelector? = nil, kind: ResourceKind? = nil) {
        self.client = client
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.kind = kind
    }

    public func list(limit: Int?, continue continueToken: String?) async throws(KubeError) -> ObjectList<T> {
        try await client.list(T.self, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector,
                              limit: limit, continue: continueToken, kind: kind)
    }

    public func watch(resourceVersion: String) async throws(KubeError) -> WatchStream<T> {
        // The server ends each watch after a randomized 5–10 minutes, spreading reconnects.
        let timeout = min(max(1, client.options.watchTimeoutSeconds), 86_400)
        return try await client.watch(T.self, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector,
                                      resourceVersion: resourceVersion, timeoutSeconds: Int.random(in: timeout...(2 * timeout)),
                                      kind: kind)
    }
}
