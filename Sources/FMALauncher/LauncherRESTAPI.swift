import FMAHTTPServer
import FMARPC
import FMAWire
import Foundation
import NIOCore
import NIOHTTP1

/// FMA's launcher REST API (`--rest-port`), so FMA's controller and curl users work unchanged:
/// the same paths, JSON bodies, status codes, byte-range logs (206/416) and NDJSON watch (410).
///
/// Differences, all deliberate: an invalid request (unknown GPU UUID, bad env var name) is 400
/// rather than FMA's 409/500; a stop never blocks other requests; the watch streams only
/// CREATED, STOPPED and DELETED (sleep and wake events are RPC-only, as FMA has none).
struct LauncherRESTAPI: Sendable {
    let manager: InstanceManager
    let logs: LogReader

    /// FMA's `VllmConfig` request body.
    struct Config: Decodable {
        var options: String
        var gpu_uuids: [String]?
        var env_vars: [String: String]?
        var annotations: [String: String]?
    }

    /// FMA's instance state object; absent fields are left out.
    struct State: Encodable {
        var status: String
        var instance_id: String
        var revision: UInt64
        var options: String
        var gpu_uuids: [String]?
        var env_vars: [String: String]?
        var annotations: [String: String]?
        var exit_code: Int32?

        init(_ instance: Fma_V1_Instance, withExitCode: Bool = false) {
            status = instance.status == .running ? "running" : "stopped"
            instance_id = instance.id
            revision = instance.revision
            options = instance.optionsString.isEmpty ? ShellWords.join(instance.options) : instance.optionsString
            gpu_uuids = instance.gpuUuids.isEmpty ? nil : instance.gpuUuids
            env_vars = instance.envVars.isEmpty ? nil : instance.envVars
            annotations = instance.annotations.isEmpty ? nil : instance.annotations
            if withExitCode, instance.status == .stopped, instance.exit.known {
                exit_code = instance.exit.signal != 0 ? -instance.exit.signal : instance.exit.exitCode
            }
        }
    }

    struct Detail: Encodable { var detail: String }

    var router: HTTPRouter {
        var router = HTTPRouter()
        let api = self
        router.add(.GET, "/") { _ in try api.index() }
        router.add(.GET, "/health") { _ in try HTTPResponse.json(["status": "OK"]) }
        router.add(.POST, "/v2/vllm/instances") { request in try await api.create(request, id: nil) }
        router.add(.PUT, "/v2/vllm/instances/{id}") { request in try await api.create(request, id: request.pathParameters["id"]) }
        router.add(.DELETE, "/v2/vllm/instances/{id}") { request in
            try await api.answer { () async throws(RPCError) in State(try await api.manager.delete(request.pathParameters["id"] ?? "", grace: nil)) }
        }
        router.add(.DELETE, "/v2/vllm/instances") { _ in
            let stopped = await api.manager.deleteAll(grace: nil).map { State($0) }
            struct All: Encodable { var status = "all_stopped"; var stopped_instances: [State]; var total_stopped: Int }
            return try HTTPResponse.json(All(stopped_instances: stopped, total_stopped: stopped.count))
        }
        router.add(.GET, "/v2/vllm/instances") { request in try await api.list(request) }
        router.add(.GET, "/v2/vllm/instances/watch") { request in try await api.watch(request) }
        router.add(.GET, "/v2/vllm/instances/{id}") { request in
            try await api.answer { () async throws(RPCError) in State(try await api.manager.get(request.pathParameters["id"] ?? "")) }
        }
        router.add(.GET, "/v2/vllm/instances/{id}/log") { request in try await api.log(request) }
        return router
    }

    private func index() throws -> HTTPResponse {
        struct Index: Encodable {
            var name = "Multi-Instance vLLM Management API"
            var version = "2.0"
            var endpoints: [String: String] = [
                "index": "GET /",
                "health": "GET /health",
                "create_instance": "POST /v2/vllm/instances",
                "create_named_instance": "PUT /v2/vllm/instances/{instance_id}",
                "delete_instance": "DELETE /v2/vllm/instances/{instance_id}",
                "delete_all_instances": "DELETE /v2/vllm/instances",
                "get_instance_status": "GET /v2/vllm/instances/{instance_id}",
                "get_all_instances": "GET /v2/vllm/instances?detail=True",
                "get_instance_logs": "GET /v2/vllm/instances/{instance_id}/log",
                "watch_instances": "GET /v2/vllm/instances/watch?since=N",
            ]
        }
        return try HTTPResponse.json(Index())
    }

    private func create(_ request: HTTPRequest, id: String?) async throws -> HTTPResponse {
        let config: Config
        do {
            config = try JSONDecoder().decode(Config.self, from: Data(request.body.readableBytesView))
        } catch {
            return try Self.validationError("the body is not a VllmConfig (a JSON object with a string 'options'): \(error)")
        }
        var create = Fma_V1_CreateInstanceRequest()
        create.id = id ?? ""
        create.optionsString = config.options
        create.gpuUuids = config.gpu_uuids ?? []
        create.envVars = config.env_vars ?? [:]
        create.annotations = config.annotations ?? [:]
        return try await answer(status: .created) { () async throws(RPCError) in State(try await manager.create(create)) }
    }

    private func list(_ request: HTTPRequest) async throws -> HTTPResponse {
        let detail: Bool
        switch (request.query["detail"] ?? "true").lowercased() {
        case "true", "1", "yes", "on", "t", "y": detail = true
        case "false", "0", "no", "off", "f", "n": detail = false
        case let other: return try Self.validationError("detail '\(other)' is not a boolean")
        }
        let list = await manager.list(idsOnly: false)
        if detail {
            struct Detailed: Encodable { var revision: UInt64; var total_instances: Int; var running_instances: Int; var instances: [State] }
            return try HTTPResponse.json(Detailed(revision: list.revision, total_instances: list.instances.count,
                                                  running_instances: list.instances.filter { $0.status == .running }.count,
                                                  instances: list.instances.map { State($0) }))
        }
        struct IDs: Encodable { var revision: UInt64; var instance_ids: [String]; var count: Int }
        return try HTTPResponse.json(IDs(revision: list.revision, instance_ids: list.instances.map(\.id), count: list.instances.count))
    }

    private func log(_ request: HTTPRequest) async throws -> HTTPResponse {
        let id = request.pathParameters["id"] ?? ""
        let path: String
        do { path = try await manager.logPath(id) } catch { return try Self.failure(error) }
        var start: UInt64 = 0
        var end: UInt64?
        var partial = false
        if let range = request.headers.first(name: "Range") {
            guard let parsed = ByteRange(range) else {
                return try HTTPResponse.json(Detail(detail: "Unsupported or malformed Range header: \(range)"), status: .badRequest)
            }
            if let last = parsed.end, last < parsed.start {
                return try HTTPResponse.json(Detail(detail: "Range end (\(last)) must be >= start (\(parsed.start))"), status: .badRequest)
            }
            (start, end, partial) = (parsed.start, parsed.end, true)
        }
        let total = LogReader.size(of: path)
        guard start < total else {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Range", value: "bytes */\(total)")
            return HTTPResponse(status: .rangeNotSatisfiable, headers: headers)
        }
        let part: Fma_V1_GetLogResponse
        do { part = try logs.read(path: path, id: id, start: start, end: end) } catch { return try Self.failure(error) }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/octet-stream")
        headers.add(name: "Accept-Ranges", value: "bytes")
        headers.add(name: "Content-Range", value: "bytes \(start)-\(start + UInt64(part.data.count) - 1)/\(part.totalSize)")
        return HTTPResponse(status: partial ? .partialContent : .ok, headers: headers, body: .bytes(ByteBuffer(bytes: part.data)))
    }

    private func watch(_ request: HTTPRequest) async throws -> HTTPResponse {
        var since: UInt64?
        if let text = request.query["since"] {
            guard let value = UInt64(text) else { return try Self.validationError("since '\(text)' is not a revision number") }
            since = value
        }
        let events: AsyncThrowingStream<Fma_V1_InstanceEvent, any Error>
        do {
            events = try await manager.watch(since: since)
        } catch {
            if error.code == .outOfRange {
                let oldest = error.details["oldest"] ?? "unknown"
                return try HTTPResponse.json(Detail(detail: "Requested revision \(since ?? 0) is no longer available. Oldest available: \(oldest)."), status: .gone)
            }
            return try Self.failure(error)
        }
        var headers = HTTPHeaders()
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        return HTTPResponse.stream(contentType: "application/x-ndjson", headers: headers) { writer in
            struct Line: Encodable { var type: String; var object: State }
            for try await event in events {
                let type: String
                switch event.type {
                case .created: type = "CREATED"
                case .stopped: type = "STOPPED"
                case .deleted: type = "DELETED"
                default: continue
                }
                try await writer.writeJSONLine(Line(type: type, object: State(event.instance, withExitCode: event.type == .stopped)))
            }
        }
    }

    // MARK: - Errors as FMA's JSON

    /// Runs `body`; an RPCError becomes FMA's `{"detail": …}` with the matching status.
    private func answer(status: HTTPResponseStatus = .ok, _ body: () async throws(RPCError) -> State) async throws -> HTTPResponse {
        let state: State
        do {
            state = try await body()
        } catch {
            return try Self.failure(error)
        }
        return try HTTPResponse.json(state, status: status)
    }

    static func failure(_ error: RPCError) throws -> HTTPResponse {
        let status: HTTPResponseStatus
        switch error.code {
        case .notFound: status = .notFound
        case .alreadyExists, .failedPrecondition: status = .conflict
        case .invalidArgument: status = .badRequest
        case .resourceExhausted: status = .tooManyRequests
        case .outOfRange: status = .rangeNotSatisfiable
        case .unavailable: status = .serviceUnavailable
        default: status = .internalServerError
        }
        return try HTTPResponse.json(Detail(detail: error.message), status: status)
    }

    static func validationError(_ message: String) throws -> HTTPResponse {
        try HTTPResponse.json(Detail(detail: message), status: .unprocessableEntity)
    }
}

/// `Range: bytes=S-E` or `bytes=S-`, exactly (no suffix ranges, no lists, no other units).
struct ByteRange: Equatable {
    var start: UInt64
    var end: UInt64?

    init?(_ header: String) {
        guard header.hasPrefix("bytes=") else { return nil }
        let spec = header.dropFirst("bytes=".count)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy(\.isASCIIDigit),
              parts[1].allSatisfy(\.isASCIIDigit), let start = UInt64(parts[0]) else { return nil }
        self.start = start
        if parts[1].isEmpty {
            end = nil
        } else {
            guard let end = UInt64(parts[1]) else { return nil }
            self.end = end
        }
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
