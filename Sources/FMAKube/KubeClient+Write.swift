import FMAJSON
public import FMAKubeModel

extension KubeClient {
    /// Creates `object` and returns it as stored (uid, resourceVersion, defaults). With
    /// `metadata.generateName` and no name, the server picks the name. The namespace is the
    /// object's, else `namespace`, else the configuration's.
    public func create<T: KubeObject>(_ object: T, namespace: String? = nil, kind: ResourceKind? = nil) async throws(KubeError) -> T {
        let kind = try resolveKind(T.self, kind, object: object)
        var object = object
        if object.apiVersion == nil { object.json["apiVersion"] = .string(kind.apiVersion) }
        if object.kind == nil { object.json["kind"] = .string(kind.kind) }
        let ns = self.namespace(object.metadata.namespace.isEmpty ? namespace : object.metadata.namespace, for: kind)
        if let ns, object.metadata.namespace.isEmpty { object.metadata.namespace = ns }
        guard !object.metadata.name.isEmpty || object.metadata.generateName != nil else {
            throw KubeError(.invalidRequest, "create \(kind): the object has neither metadata.name nor metadata.generateName")
        }
        return T(json: try await send(.post, kind.collectionPath(namespace: ns), body: .object(object.json)))
    }

    /// Assigns the unassigned Pod `name` to `node` through its `binding` subresource, as a
    /// scheduler does (a Pod's `spec.nodeName` cannot be changed by an update).
    public func bind(pod name: String, namespace: String? = nil, node: String) async throws(KubeError) {
        let kind = ResourceKind.pod
        let path = kind.objectPath(namespace: self.namespace(namespace, for: kind), name: percentEncoded(name), subresource: "binding")
        let binding: JSONObject = [
            "apiVersion": "v1", "kind": "Binding", "metadata": ["name": .string(name)],
            "target": ["apiVersion": "v1", "kind": "Node", "name": .string(node)],
        ]
        _ = try await send(.post, path, body: .object(binding))
    }

    /// Replaces `object` (PUT). Its `metadata.resourceVersion` makes the write conditional: if
    /// the object changed since it was read, the server answers 409 (`isConflict`) and nothing
    /// is written. Status changes are ignored by kinds with a status subresource: use
    /// `updateStatus`.
    public func update<T: KubeObject>(_ object: T, kind: ResourceKind? = nil) async throws(KubeError) -> T {
        try await put(object, kind: kind, subresource: nil)
    }

    /// Replaces the status of `object` through the status subresource (conditional on its
    /// resourceVersion like `update`).
    public func updateStatus<T: KubeObject>(_ object: T, kind: ResourceKind? = nil) async throws(KubeError) -> T {
        try await put(object, kind: kind, subresource: "status")
    }

    /// Reads the object, applies `mutate`, and writes it back; on a 409 Conflict it reads the
    /// object afresh and tries again (up to `maxAttempts` times). When `mutate` changes
    /// nothing, nothing is written and the current object is returned. Errors of `mutate` end
    /// the loop and are rethrown as they are.
    public func update<T: KubeObject>(
        _ type: T.Type = T.self, name: String, namespace: String? = nil, kind: ResourceKind? = nil,
        status: Bool = false, maxAttempts: Int = 5,
        retryingOnConflict mutate: (inout T) throws -> Void
    ) async throws -> T {
        var attempt = 1
        while true {
            let current = try await get(type, name: name, namespace: namespace, kind: kind)
            var changed = current
            try mutate(&changed)
            if changed == current { return current }
            let result: Result<T, KubeError>
            do {
                result = .success(try await put(changed, kind: kind, subresource: status ? "status" : nil))
            } catch {
                result = .failure(error)
            }
            switch result {
            case .success(let updated):
                return updated
            case .failure(let error) where !error.isConflict || attempt >= maxAttempts:
                throw error
            case .failure:
                logger.debug("update conflicted; reading again", metadata: [
                    "kind": "\(kind ?? T.resourceKind)", "object": "\(current.key)", "attempt": "\(attempt)",
                ])
                attempt += 1
            }
        }
    }

    /// Patches the object `name` (or its `subresource`, e.g. `status`) and returns the result.
    /// A merge patch that carries `metadata.resourceVersion` is conditional like an update.
    public func patch<T: KubeObject>(
        _ type: T.Type = T.self, name: String, namespace: String? = nil, _ patch: KubePatch,
        subresource: String? = nil, kind: ResourceKind? = nil
    ) async throws(KubeError) -> T {
        let kind = try resolveKind(type, kind)
        let path = kind.objectPath(namespace: self.namespace(namespace, for: kind), name: percentEncoded(name), subresource: subresource)
        return T(json: try await send(.patch, path, body: patch.document, contentType: patch.contentType))
    }

    /// Patches the status subresource of the object `name`.
    public func patchStatus<T: KubeObject>(
        _ type: T.Type = T.self, name: String, namespace: String? = nil, _ patch: KubePatch, kind: ResourceKind? = nil
    ) async throws(KubeError) -> T {
        try await self.patch(type, name: name, namespace: namespace, patch, subresource: "status", kind: kind)
    }

    /// Deletes the object `name`. Returns the object when it still exists afterwards (deletion
    /// has begun: finalizers pending or a grace period running; `metadata.deletionTimestamp`
    /// is set), `nil` when it is gone.
    @discardableResult
    public func delete<T: KubeObject>(
        _ type: T.Type = T.self, name: String, namespace: String? = nil,
        options: DeleteOptions = DeleteOptions(), kind: ResourceKind? = nil
    ) async throws(KubeError) -> T? {
        let kind = try resolveKind(type, kind)
        let path = kind.objectPath(namespace: self.namespace(namespace, for: kind), name: percentEncoded(name))
        let answer = try await send(.delete, path, body: .object(options.json))
        if answer["kind"]?.string == "Status" { return nil }
        let object = T(json: answer)
        return object.metadata.deletionTimestamp == nil ? nil : object
    }

    private func put<T: KubeObject>(_ object: T, kind: ResourceKind?, subresource: String?) async throws(KubeError) -> T {
        let kind = try resolveKind(T.self, kind, object: object)
        let name = object.metadata.name
        guard !name.isEmpty else {
            throw KubeError(.invalidRequest, "update \(kind): the object has no metadata.name")
        }
        let ns = self.namespace(object.metadata.namespace, for: kind)
        var object = object
        if let ns, object.metadata.namespace.isEmpty { object.metadata.namespace = ns }
        let path = kind.objectPath(namespace: ns, name: percentEncoded(name), subresource: subresource)
        return T(json: try await send(.put, path, body: .object(object.json)))
    }
}
