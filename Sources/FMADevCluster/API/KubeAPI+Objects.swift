import FMAHTTPServer
import FMAJSON
import FMAKubeModel
import NIOHTTP1

/// Reading and writing objects: get, list, create, update, patch, delete, delete collection.
extension KubeAPI {
    func get(_ kind: ResourceKind, namespace: String, name: String, _ request: HTTPRequest) throws(KubeStatus) -> HTTPResponse {
        let format = try ResponseFormat.negotiate(request.headers)
        let object = try viewed(kind, name) { () throws(KubeStatus) in try store.get(stored(kind), namespace: namespace, name: name) }
        if format == .table {
            let rv = object[path: ["metadata", "resourceVersion"]]?.string
            return APIResponse.json(tableConverter(request).table(stored(kind), [object], resourceVersion: rv), contentType: ResponseFormat.tableContentType)
        }
        return APIResponse.json(shown(kind, object))
    }

    func list(_ kind: ResourceKind, namespace: String?, _ request: HTTPRequest) async throws(KubeStatus) -> HTTPResponse {
        let format = try ResponseFormat.negotiate(request.headers)
        var options = try ListOptions(query: request.query)
        options.fields = try FieldLabels.check(options.fields, for: kind)
        if options.watch { return try watch(kind, namespace: namespace, options: options, format: format, request) }
        let page = try store.list(stored(kind), namespace: namespace, labels: options.labels, fields: options.fields,
                                  limit: options.limit, continueToken: options.continueToken)
        if format == .table {
            let table = tableConverter(request).table(stored(kind), page.items, resourceVersion: page.resourceVersion, continueToken: page.continueToken)
            return APIResponse.json(table, contentType: ResponseFormat.tableContentType)
        }
        return APIResponse.json(listObject(kind, page.items.map { shown(kind, $0) }, resourceVersion: page.resourceVersion,
                                           continueToken: page.continueToken, remaining: page.remainingItemCount))
    }

    func create(_ kind: ResourceKind, namespace: String?, _ request: HTTPRequest, user: UserInfo) throws(KubeStatus) -> HTTPResponse {
        let options = try WriteOptions(query: request.query)
        var object = try decodeBody(request, kind: kind)
        var meta = ObjectMeta(json: object["metadata"]?.object ?? JSONObject())
        if kind.namespaced {
            guard let namespace else {
                throw .methodNotAllowed("POST", "\(kind.description) across all namespaces: create in /namespaces/NAMESPACE/\(kind.plural)")
            }
            if !meta.namespace.isEmpty && meta.namespace != namespace {
                throw .badRequest("the namespace of the provided object (\(meta.namespace)) does not match the namespace sent on the request (\(namespace))")
            }
            meta.namespace = namespace
            object["metadata"] = .object(meta.json)
        }
        let (known, warnings) = try knownFields(kind, object, options)
        let policyWarnings = try policies.active(namespace: namespace ?? "").admit(.init(operation: "CREATE", kind: kind, subresource: nil, namespace: namespace ?? "", name: meta.name,
                                                      user: user, object: known, oldObject: nil, dryRun: options.dryRun))
        let created = try store.create(stored(kind), namespace: namespace ?? "", try toStorage(kind, known, old: nil), dryRun: options.dryRun)
        return APIResponse.json(shown(kind, created), status: .created).warning(warnings + policyWarnings)
    }

    func update(_ kind: ResourceKind, namespace: String, name: String, subresource: String?, _ request: HTTPRequest,
                user: UserInfo) throws(KubeStatus) -> HTTPResponse {
        let options = try WriteOptions(query: request.query)
        var object = try decodeBody(request, kind: kind)
        var meta = ObjectMeta(json: object["metadata"]?.object ?? JSONObject())
        if meta.name.isEmpty {
            meta.name = name
        } else if meta.name != name {
            throw .badRequest("the name of the object (\(meta.name)) does not match the name on the URL (\(name))")
        }
        if kind.namespaced {
            if !meta.namespace.isEmpty && meta.namespace != namespace {
                throw .badRequest("the namespace of the provided object (\(meta.namespace)) does not match the namespace sent on the request (\(namespace))")
            }
            meta.namespace = namespace
        }
        object["metadata"] = .object(meta.json)
        let (known, warnings) = try knownFields(kind, object, options)
        let storedObject = try toStorage(kind, known, old: JSONObject())
        var policyWarnings: [String] = []
        let active = policies.active(namespace: namespace)
        let updated = try viewed(kind, name) { () throws(KubeStatus) in
            try store.update(stored(kind), namespace: namespace, name: name, storedObject, subresource: subresource, dryRun: options.dryRun) {
                (new, old) throws(KubeStatus) in
                policyWarnings = try active.admit(.init(operation: "UPDATE", kind: kind, subresource: subresource, namespace: namespace, name: name,
                                                          user: user, object: shown(kind, new), oldObject: shown(kind, old), dryRun: options.dryRun))
                return new
            }
        }
        return APIResponse.json(shown(kind, updated)).warning(warnings + policyWarnings)
    }

    func patch(_ kind: ResourceKind, namespace: String, name: String, subresource: String?, _ request: HTTPRequest,
               user: UserInfo) throws(KubeStatus) -> HTTPResponse {
        let options = try WriteOptions(query: request.query)
        let patch = try PatchRequest.parse(request, kind: kind)
        var warnings: [String] = []
        let active = policies.active(namespace: namespace)
        let patched = try viewed(kind, name) { () throws(KubeStatus) in
            try store.patch(stored(kind), namespace: namespace, name: name, patch, subresource: subresource, dryRun: options.dryRun,
                            view: views[kind]) { (object, old) throws(KubeStatus) in
                let (known, unknown) = try knownFields(kind, object, options)
                warnings = unknown
                warnings += try active.admit(.init(operation: "UPDATE", kind: kind, subresource: subresource, namespace: namespace, name: name,
                                                     user: user, object: known, oldObject: old, dryRun: options.dryRun))
                return known
            }
        }
        return APIResponse.json(shown(kind, patched)).warning(warnings)
    }

    func delete(_ kind: ResourceKind, namespace: String, name: String, _ request: HTTPRequest, user: UserInfo) throws(KubeStatus) -> HTTPResponse {
        let options = try deleteOptions(request)
        let active = policies.active(namespace: namespace)
        if !active.isEmpty, let old = try? store.get(stored(kind), namespace: namespace, name: name) {
            _ = try active.admit(.init(operation: "DELETE", kind: kind, subresource: nil, namespace: namespace, name: name,
                                       user: user, object: nil, oldObject: shown(kind, old), dryRun: options.dryRun))
        }
        let result = try viewed(kind, name) { () throws(KubeStatus) in try store.delete(stored(kind), namespace: namespace, name: name, options: options) }
        if case .deleted(let object) = result, kind != .pod {
            // Kubernetes answers a delete that removed the object at once with a Success Status
            // (only pods return the deleted object); an object is returned while deletion is
            // pending. Clients tell the two apart by this.
            let uid = object[path: ["metadata", "uid"]]?.string ?? ""
            var details: JSONObject = ["name": .string(name), "kind": .string(kind.plural), "uid": .string(uid)]
            if !kind.group.isEmpty { details["group"] = .string(kind.group) }
            var status = KubeStatus(code: 200, reason: .unknown, message: "", details: details).json
            status["reason"] = nil
            status["message"] = nil
            return APIResponse.json(status)
        }
        return APIResponse.json(shown(kind, result.object))
    }

    func deleteCollection(_ kind: ResourceKind, namespace: String?, _ request: HTTPRequest) throws(KubeStatus) -> HTTPResponse {
        var list = try ListOptions(query: request.query)
        list.fields = try FieldLabels.check(list.fields, for: kind)
        let options = try deleteOptions(request)
        let deleted = try store.deleteCollection(stored(kind), namespace: namespace, labels: list.labels, fields: list.fields, options: options)
        return APIResponse.json(listObject(kind, deleted.map { shown(kind, $0) }, resourceVersion: "\(store.resourceVersion)", continueToken: nil, remaining: nil))
    }

    /// An object written (or patched) as `fieldValidation` wants its unknown fields: Strict
    /// rejects them (400, as a real API server words it), Warn and Ignore drop them, Warn with a
    /// warning each. Kinds whose fields are not declared (`KubeFields.of`) pass as they are.
    func knownFields(_ kind: ResourceKind, _ object: JSONObject, _ options: WriteOptions) throws(KubeStatus) -> (JSONObject, [String]) {
        guard let fields = KubeFields.of(kind) else { return (object, []) }
        let unknown = fields.problems(in: .object(object))
        guard !unknown.isEmpty else { return (object, []) }
        switch options.fieldValidation {
        case .strict:
            throw .badRequest("\(kind.kind) in version \"\(kind.version)\" cannot be handled as a \(kind.kind): \(KubeFields.strictDecodingError(unknown))")
        case .warn, .ignore:
            let pruned = fields.pruned(.object(object)).object ?? object
            return (pruned, options.fieldValidation == .warn ? unknown : [])
        }
    }

    // MARK: - Views (`KindView`)

    /// The kind the store holds objects of `kind` as.
    func stored(_ kind: ResourceKind) -> ResourceKind {
        views[kind]?.storage ?? kind
    }

    /// A stored object as `kind` shows it.
    func shown(_ kind: ResourceKind, _ object: JSONObject) -> JSONObject {
        views[kind]?.fromStorage(object) ?? object
    }

    /// An object written as `kind`, checked by its view and converted for the store.
    func toStorage(_ kind: ResourceKind, _ object: JSONObject, old: JSONObject?) throws(KubeStatus) -> JSONObject {
        guard let view = views[kind] else { return object }
        let causes = view.validate(object, old)
        if !causes.isEmpty { throw KubeStatus.invalid(kind, name: object[path: ["metadata", "name"]]?.string ?? "", causes: causes) }
        return view.toStorage(object)
    }

    /// Runs a store call for an object of `kind`; a 404 names the kind as served.
    func viewed<R>(_ kind: ResourceKind, _ name: String, _ body: () throws(KubeStatus) -> R) throws(KubeStatus) -> R {
        do throws(KubeStatus) {
            return try body()
        } catch where error.code == 404 && views[kind] != nil {
            throw .notFound(kind, name: name)
        }
    }

    // MARK: - Helpers

    /// `{"kind": "PodList", "apiVersion": "v1", "metadata": {…}, "items": […]}`.
    func listObject(_ kind: ResourceKind, _ items: [JSONObject], resourceVersion: String, continueToken: String?, remaining: Int?) -> JSONObject {
        var metadata: JSONObject = ["resourceVersion": .string(resourceVersion)]
        if let continueToken {
            metadata["continue"] = .string(continueToken)
            if let remaining { metadata["remainingItemCount"] = .int(Int64(remaining)) }
        }
        return ["kind": .string(kind.listKind), "apiVersion": .string(kind.apiVersion), "metadata": .object(metadata),
                "items": .array(items.map { .object($0) })]
    }

    func tableConverter(_ request: HTTPRequest) -> TableConverter {
        let include = request.query["includeObject"].flatMap(TableConverter.IncludeObject.init(rawValue:)) ?? .metadata
        return TableConverter(includeObject: include, now: configuration.now())
    }

    /// The body as a JSON object of `kind`: `kind` and `apiVersion`, when given, must name it
    /// (they are filled in when missing).
    func decodeBody(_ request: HTTPRequest, kind: ResourceKind) throws(KubeStatus) -> JSONObject {
        var object = try decodeJSONBody(request)
        for (field, expected) in [("kind", kind.kind), ("apiVersion", kind.apiVersion)] {
            switch object[field] {
            case nil, .null?:
                object[field] = .string(expected)
            case .string(let given)? where given == expected:
                break
            case let given?:
                throw .badRequest("the object's \(field) is \(given.serializedString()), but the request is for \(kind.apiVersion) \(kind.kind) (\(kind.description))")
            }
        }
        if let metadata = object["metadata"], metadata.object == nil, !metadata.isNull {
            throw .badRequest("metadata must be an object, got \(metadata.typeName)")
        }
        return object
    }

    /// The body as a JSON object; it must be `application/json` (or untyped), or protobuf of
    /// the few kinds `ProtobufBody` reads.
    func decodeJSONBody(_ request: HTTPRequest) throws(KubeStatus) -> JSONObject {
        let media = request.mediaType
        if media == ProtobufBody.mediaType {
            return try ProtobufBody.decode(Array(request.body.readableBytesView))
        }
        guard media.isEmpty || media == "application/json" || media == "*/*" else {
            throw .unsupportedMediaType("the body's Content-Type \(media) is not supported by fma-devcluster: send application/json (kubectl create -f FILE and apply -f FILE do)")
        }
        let bytes = Array(request.body.readableBytesView)
        guard !bytes.isEmpty else { throw .badRequest("the request has no body: send the object as JSON") }
        let value: JSONValue
        do { value = try JSONValue(parsing: bytes) } catch {
            throw .badRequest("the request body is not valid JSON: \(error.message)")
        }
        guard let object = value.object else { throw .badRequest("the request body must be a JSON object, got \(value.typeName)") }
        return object
    }

    /// DeleteOptions from the body (if any), then the query (`gracePeriodSeconds`,
    /// `propagationPolicy`, `dryRun`, `orphanDependents`), which wins.
    func deleteOptions(_ request: HTTPRequest) throws(KubeStatus) -> DeleteOptions {
        var options = DeleteOptions()
        if request.body.readableBytes > 0 {
            options = try DeleteOptions(json: try decodeJSONBody(request))
        }
        if let text = request.query["gracePeriodSeconds"], !text.isEmpty {
            guard let value = Int64(text), value >= 0 else { throw .badRequest("gracePeriodSeconds must be a non-negative integer, got \"\(text)\"") }
            options.gracePeriodSeconds = value
        }
        if let text = request.query["propagationPolicy"], !text.isEmpty {
            guard let policy = DeleteOptions.PropagationPolicy(rawValue: text) else {
                throw .badRequest("propagationPolicy must be Background, Foreground or Orphan, got \"\(text)\"")
            }
            options.propagationPolicy = policy
        }
        if try ListOptions.flag(request.query, "orphanDependents") { options.propagationPolicy = .orphan }
        if try WriteOptions(query: request.query).dryRun { options.dryRun = true }
        return options
    }
}
