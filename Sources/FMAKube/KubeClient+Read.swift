public import FMAKubeModel

extension KubeClient {
    /// The object `name` of `T`'s kind (or `kind`).
    public func get<T: KubeObject>(
        _ type: T.Type = T.self, name: String, namespace: String? = nil, kind: ResourceKind? = nil
    ) async throws(KubeError) -> T {
        let kind = try resolveKind(type, kind)
        let path = kind.objectPath(namespace: self.namespace(namespace, for: kind), name: percentEncoded(name))
        return T(json: try await send(.get, path))
    }

    /// One page of objects; pass the page's `continueToken` as `continue` for the next one.
    ///
    /// - Parameters:
    ///   - namespace: `nil` lists across all namespaces.
    ///   - limit: the most items a page holds; `nil` asks for all at once.
    public func list<T: KubeObject>(
        _ type: T.Type = T.self, namespace: String? = nil,
        labelSelector: LabelSelector? = nil, fieldSelector: FieldSelector? = nil,
        limit: Int? = nil, continue continueToken: String? = nil, kind: ResourceKind? = nil
    ) async throws(KubeError) -> ObjectList<T> {
        let kind = try resolveKind(type, kind)
        var query = selectorQuery(labelSelector, fieldSelector)
        if let limit { query.append(("limit", String(limit))) }
        if let continueToken { query.append(("continue", continueToken)) }
        let path = kind.collectionPath(namespace: kind.namespaced ? namespace : nil)
        let object = try await send(.get, path, query: query)
        let items = (object["items"]?.array ?? []).compactMap { $0.object }.map { json -> T in
            var json = json
            // Items of a list carry no apiVersion and kind; put them back so each stands alone.
            if json["apiVersion"] == nil { json["apiVersion"] = .string(kind.apiVersion) }
            if json["kind"] == nil { json["kind"] = .string(kind.kind) }
            return T(json: json)
        }
        let continueValue = object[path: ["metadata", "continue"]]?.string
        return ObjectList(
            items: items,
            resourceVersion: object[path: ["metadata", "resourceVersion"]]?.string ?? "",
            continueToken: continueValue.flatMap { $0.isEmpty ? nil : $0 },
            remainingItemCount: object[path: ["metadata", "remainingItemCount"]]?.int
        )
    }

    /// Every object, read in pages of `pageSize`; the resourceVersion is the last page's (the
    /// snapshot all pages come from). A continue token that expires mid-way (410) restarts
    /// the list once from the beginning.
    public func listAll<T: KubeObject>(
        _ type: T.Type = T.self, namespace: String? = nil,
        labelSelector: LabelSelector? = nil, fieldSelector: FieldSelector? = nil,
        pageSize: Int = 500, kind: ResourceKind? = nil
    ) async throws(KubeError) -> ObjectList<T> {
        var restarted = false
        while true {
            do {
                return try await collectPages { (token) throws(KubeError) in
                    try await self.list(type, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector,
                                        limit: pageSize, continue: token, kind: kind)
                }
            } catch {
                guard error.isGone && !restarted else { throw error }
                logger.info("list continue token expired; listing again", metadata: ["kind": "\(kind ?? T.resourceKind)"])
                restarted = true
            }
        }
    }

    /// A watch of objects changed after `resourceVersion` (`nil` or empty: the current state as
    /// ADDED events first, then changes), with bookmarks when `allowBookmarks`. The server
    /// ends the watch after `timeoutSeconds` (default `options.watchTimeoutSeconds`).
    public func watch<T: KubeObject>(
        _ type: T.Type = T.self, namespace: String? = nil,
        labelSelector: LabelSelector? = nil, fieldSelector: FieldSelector? = nil,
        resourceVersion: String? = nil, timeoutSeconds: Int? = nil, allowBookmarks: Bool = true,
        kind: ResourceKind? = nil
    ) async throws(KubeError) -> WatchStream<T> {
        let kind = try resolveKind(type, kind)
        var query: [(String, String)] = [("watch", "true")]
        query += selectorQuery(labelSelector, fieldSelector)
        if let resourceVersion, !resourceVersion.isEmpty { query.append(("resourceVersion", resourceVersion)) }
        if allowBookmarks { query.append(("allowWatchBookmarks", "true")) }
        query.append(("timeoutSeconds", String(timeoutSeconds ?? options.watchTimeoutSeconds)))
        let path = kind.collectionPath(namespace: kind.namespaced ? namespace : nil)
        let (response, description) = try await openStream(path, query: query)
        return WatchStream(response: response, request: description)
    }

    /// A list-and-watch source for an `Informer` of `T`'s kind (or `kind`), with these selectors.
    public func listerWatcher<T: KubeObject>(
        _ type: T.Type = T.self, namespace: String? = nil,
        labelSelector: LabelSelector? = nil, fieldSelector: FieldSelector? = nil, kind: ResourceKind? = nil
    ) -> KubeListerWatcher<T> {
        KubeListerWatcher(client: self, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector, kind: kind)
    }

    private func selectorQuery(_ labelSelector: LabelSelector?, _ fieldSelector: FieldSelector?) -> [(String, String)] {
        var query: [(String, String)] = []
        if let labelSelector, !labelSelector.isEverything { query.append(("labelSelector", labelSelector.description)) }
        if let fieldSelector, !fieldSelector.isEverything { query.append(("fieldSelector", fieldSelector.description)) }
        return query
    }
}

/// Pages through a list: calls `page` with `nil`, then with each continue token, until a page
/// has none; returns every item and the last page's resourceVersion.
func collectPages<T: KubeObject>(
    _ page: (String?) async throws(KubeError) -> ObjectList<T>
) async throws(KubeError) -> ObjectList<T> {
    var items: [T] = []
    var token: String?
    var seen: Set<String> = []
    while true {
        let list = try await page(token)
        items += list.items
        guard let next = list.continueToken else {
            return ObjectList(items: items, resourceVersion: list.resourceVersion)
        }
        // A server that hands out a continue token twice would page forever.
        guard seen.insert(next).inserted else {
            throw KubeError(.decode, "list: the server repeated the continue token \"\(next)\"; paging stopped after \(items.count) items")
        }
        token = next
    }
}
