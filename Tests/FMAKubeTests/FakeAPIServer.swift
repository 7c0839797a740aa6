import FMAHTTPServer
import FMAJSON
import FMAKubeModel
import FMARPC
import FMATestSupport
import Logging
import NIOCore
import NIOHTTP1

/// A few ConfigMap endpoints of the Kubernetes API over real HTTP, enough to check what the
/// client sends (paths, queries, headers, bodies) and how it reads answers. The real API
/// subset is fma-devcluster's; this stays small and scriptable.
final class FakeAPIServer: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var query: [String: String]
        var contentType: String?
        var authorization: String?
        var body: JSONValue?
    }

    struct State: Sendable {
        var objects: [String: JSONObject] = [:]
        var version = 100
        var requests: [Request] = []
        /// PUTs that first lose to "another writer" (which bumps the object) and answer 409.
        var conflictsLeft = 0
        /// The lines a watch writes, in chunks of these sizes cut anywhere.
        var watchBody = ""
        var generated = 0
        /// GETs of one object answered 429 with `Retry-After: 0` first.
        var throttleLeft = 0
    }

    let state = Locked(State())

    static let collection = "/api/v1/namespaces/{ns}/configmaps"
    static let item = "/api/v1/namespaces/{ns}/configmaps/{name}"

    var router: HTTPRouter {
        var router = HTTPRouter()
        router.add(.GET, Self.collection) { [self] request in try await list(request) }
        router.add(.POST, Self.collection) { [self] request in create(request) }
        router.add(.GET, Self.item) { [self] request in get(request) }
        router.add(.PUT, Self.item) { [self] request in update(request) }
        router.add(.PATCH, Self.item) { [self] request in patch(request) }
        router.add(.DELETE, Self.item) { [self] request in delete(request) }
        return router
    }

    /// Runs the server for `body`, which gets its base URL.
    func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let server = HTTPServer(address: .tcp(host: "127.0.0.1", port: 0), router: router, logger: Logger(label: "fake-api", factory: { _ in SwiftLogNoOpLogHandler() }))
        let address = try await server.bind()
        return try await withRunningServices([server]) { _ in
            try await body(HTTPServer.url(address))
        }
    }

    var requests: [Request] { state.withLock { $0.requests } }

    private func record(_ request: HTTPRequest) {
        let body = request.body.readableBytes > 0 ? try? JSONValue(parsing: Array(request.body.readableBytesView)) : nil
        let entry = Request(method: request.method.rawValue, path: request.path, query: request.query,
                            contentType: request.headers.first(name: "Content-Type"),
                            authorization: request.headers.first(name: "Authorization"), body: body)
        state.withLock { $0.requests.append(entry) }
    }

    private func answer(_ object: JSONObject, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: HTTPResponseStatus(statusCode: status), headers: ["Content-Type": "application/json"],
                     body: .bytes(ByteBuffer(bytes: JSONValue.object(object).serialized())))
    }

    private func answer(_ status: KubeStatus) -> HTTPResponse {
        answer(status.json, status: status.code)
    }

    private func list(_ request: HTTPRequest) async throws -> HTTPResponse {
        record(request)
        if request.query["watch"] == "true" {
            if request.query["resourceVersion"] == "1" {
                let line = JSONValue.object(["type": "ERROR", "object": .object(KubeStatus.gone("too old resource version: 1 (100)").json)])
                return .stream(contentType: "application/json") { writer in
                    try await writer.write(line.serializedString() + "\n")
                }
            }
            let text = state.withLock { $0.watchBody }
            return .stream(contentType: "application/json") { writer in
                // Cut the body into small chunks so events span chunk boundaries.
                var rest = Substring(text)
                while !rest.isEmpty {
                    let piece = rest.prefix(7)
                    rest = rest.dropFirst(7)
                    try await writer.write(String(piece))
                }
            }
        }
        let (items, next, version) = state.withLock { state -> ([JSONValue], String?, Int) in
            let names = state.objects.keys.sorted()
            let start = Int(request.query["continue"] ?? "0") ?? 0
            let limit = Int(request.query["limit"] ?? "") ?? names.count
            let end = min(names.count, start + limit)
            let items = names[start..<end].map { JSONValue.object(state.objects[$0]!) }
            return (items, end < names.count ? String(end) : nil, state.version)
        }
        var metadata: JSONObject = ["resourceVersion": .string(String(version))]
        if let next { metadata["continue"] = .string(next) }
        return answer(["kind": "ConfigMapList", "apiVersion": "v1", "metadata": .object(metadata), "items": .array(items)])
    }

    private func get(_ request: HTTPRequest) -> HTTPResponse {
        record(request)
        let throttled = state.withLock { state in
            guard state.throttleLeft > 0 else { return false }
            state.throttleLeft -= 1
            return true
        }
        if throttled {
            var response = answer(KubeStatus(code: 429, reason: .tooManyRequests, message: "too many requests, please try again later"))
            response.headers.add(name: "Retry-After", value: "0")
            return response
        }
        let name = request.pathParameters["name"] ?? ""
        guard let object = state.withLock({ $0.objects[name] }) else { return answer(.notFound(.configMap, name: name)) }
        return answer(object)
    }

    private func create(_ request: HTTPRequest) -> HTTPResponse {
        record(request)
        guard var object = try? JSONValue(parsing: Array(request.body.readableBytesView)).object else { return answer(.badRequest("not JSON")) }
        return state.withLock { state in
            var meta = ObjectMeta(json: object["metadata"]?.object ?? [:])
            if meta.name.isEmpty, let prefix = meta.generateName {
                state.generated += 1
                meta.name = prefix + "x\(state.generated)"
            }
            if state.objects[meta.name] != nil { return answer(.alreadyExists(.configMap, name: meta.name)) }
            state.version += 1
            meta.resourceVersion = String(state.version)
            meta.uid = "uid-\(meta.name)"
            object["metadata"] = .object(meta.json)
            state.objects[meta.name] = object
            return answer(object, status: 201)
        }
    }

    private func update(_ request: HTTPRequest) -> HTTPResponse {
        record(request)
        let name = request.pathParameters["name"] ?? ""
        guard var object = try? JSONValue(parsing: Array(request.body.readableBytesView)).object else { return answer(.badRequest("not JSON")) }
        return state.withLock { state in
            guard var stored = state.objects[name] else { return answer(.notFound(.configMap, name: name)) }
            if state.conflictsLeft > 0 {
                // Another writer gets there first.
                state.conflictsLeft -= 1
                state.version += 1
                stored[path: ["metadata", "resourceVersion"]] = .string(String(state.version))
                stored[path: ["metadata", "annotations", "other-writer"]] = .string(String(state.version))
                state.objects[name] = stored
            }
            guard object[path: ["metadata", "resourceVersion"]] == stored[path: ["metadata", "resourceVersion"]] else {
                return answer(.conflict(.configMap, name: name, "the object has been modified; please apply your changes to the latest version and try again"))
            }
            state.version += 1
            object[path: ["metadata", "resourceVersion"]] = .string(String(state.version))
            state.objects[name] = object
            return answer(object)
        }
    }

    private func patch(_ request: HTTPRequest) -> HTTPResponse {
        record(request)
        let name = request.pathParameters["name"] ?? ""
        guard let patch = try? JSONValue(parsing: Array(request.body.readableBytesView)) else { return answer(.badRequest("not JSON")) }
        return state.withLock { state in
            guard let stored = state.objects[name] else { return answer(.notFound(.configMap, name: name)) }
            var patched: JSONObject
            switch request.headers.first(name: "Content-Type") {
            case "application/merge-patch+json":
                patched = JSONValue.object(stored).applyingMergePatch(patch).object ?? stored
            case "application/json-patch+json":
                guard let operations = try? JSONPatch(parsing: patch), let result = try? operations.apply(to: .object(stored)).object else {
                    return answer(KubeStatus(code: 422, reason: .invalid, message: "the JSON patch does not apply"))
                }
                patched = result
            default:
                return answer(KubeStatus(code: 415, reason: .unsupportedMediaType, message: "the body of the request was in an unknown format"))
            }
            state.version += 1
            patched[path: ["metadata", "resourceVersion"]] = .string(String(state.version))
            state.objects[name] = patched
            return answer(patched)
        }
    }

    private func delete(_ request: HTTPRequest) -> HTTPResponse {
        record(request)
        let name = request.pathParameters["name"] ?? ""
        return state.withLock { state in
            guard state.objects.removeValue(forKey: name) != nil else { return answer(.notFound(.configMap, name: name)) }
            return answer(KubeStatus(code: 200, reason: .unknown, message: "").json)
        }
    }
}
