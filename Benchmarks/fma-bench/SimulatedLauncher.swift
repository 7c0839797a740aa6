import FMAAPI
import FMAHTTPServer
import FMAJSON
import FMARPC
import FMAWire
import Foundation
import Logging
import NIOConcurrencyHelpers

/// One launcher of `fma-bench scale`, in memory: `fma.v1.Launcher` answered at once, each
/// instance reported READY right after its creation (as a launcher's /health probe would), and
/// each a small HTTP server on the launcher's address answering vLLM's `GET /is_sleeping` and
/// `POST /v1/completions` (what the controller may ask an instance).
actor SimulatedLauncher {
    private struct Running {
        var instance: Fma_V1_Instance
        let sleeping: NIOLockedValueBox<Bool>
        let server: Task<Void, Never>
    }

    let host: String
    private var instances: [String: Running] = [:]
    /// Ports being bound by a create in progress (the actor is re-entered while it binds).
    private var reserved: Set<Int> = []
    private var revision: UInt64 = 0
    private var history: [Fma_V1_InstanceEvent] = []
    private var watchers: [UInt64: AsyncThrowingStream<Fma_V1_InstanceEvent, any Error>.Continuation] = [:]
    private var nextWatcher: UInt64 = 0
    private static let historyLimit = 1024

    init(host: String) {
        self.host = host
    }

    func create(_ request: Fma_V1_CreateInstanceRequest) async throws(RPCError) -> Fma_V1_Instance {
        guard !request.id.isEmpty else { throw RPCError(.invalidArgument, "id is empty", details: ["field": "id"]) }
        guard instances[request.id] == nil else { throw RPCError(.alreadyExists, "instance '\(request.id)' already exists") }
        guard let port = Self.port(in: request.optionsString) else {
            throw RPCError(.invalidArgument, "options_string has no --port: \(RPCError.quote(request.optionsString))")
        }
        guard !reserved.contains(port), !instances.values.contains(where: { Int($0.instance.port) == port }) else {
            throw RPCError(.failedPrecondition, "port \(port) is taken by another instance of this launcher")
        }
        reserved.insert(port)
        defer { reserved.remove(port) }
        let sleeping = NIOLockedValueBox(false)
        let server = HTTPServer(address: .tcp(host: host, port: port), router: Self.router(sleeping: sleeping), logger: .silent)
        do {
            try await server.bind()
        } catch {
            throw RPCError(.unavailable, "instance '\(request.id)' cannot listen on \(host):\(port): \(error)")
        }
        var instance = Fma_V1_Instance()
        instance.id = request.id
        instance.status = .running
        instance.optionsString = request.optionsString
        instance.options = request.optionsString.split(whereSeparator: \.isWhitespace).map(String.init)
        instance.gpuUuids = request.gpuUuids
        instance.envVars = request.envVars
        instance.annotations = request.annotations
        instance.port = UInt32(port)
        instance.sleepState = .awake
        instance.createdUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
        instance.spawnMode = "simulated"
        let task = Task { _ = try? await server.run() }
        instances[request.id] = Running(instance: instance, sleeping: sleeping, server: task)
        let created = publish(.created, request.id)
        // A real launcher's first /health probe finds the server answering: READY follows.
        Task { self.markReady(request.id) }
        return created
    }

    /// As a launcher announces readiness: to the watchers connected now, with no revision.
    private func markReady(_ id: String) {
        guard var instance = instances[id]?.instance, !instance.ready else { return }
        instance.ready = true
        instances[id]?.instance = instance
        let event = Fma_V1_InstanceEvent.with { $0.type = .ready; $0.revision = instance.revision; $0.instance = instance }
        for continuation in watchers.values { continuation.yield(event) }
    }

    func get(_ id: String) throws(RPCError) -> Fma_V1_Instance {
        guard let running = instances[id] else { throw Self.notFound(id) }
        return running.instance
    }

    func list() -> Fma_V1_ListInstancesResponse {
        Fma_V1_ListInstancesResponse.with {
            $0.revision = revision
            $0.instances = instances.values.map(\.instance).sorted { $0.revision < $1.revision }
        }
    }

    func delete(_ id: String) throws(RPCError) -> Fma_V1_Instance {
        guard let running = instances.removeValue(forKey: id) else { throw Self.notFound(id) }
        running.server.cancel()
        revision += 1
        var instance = running.instance
        instance.status = .stopped
        instance.revision = revision
        instance.exit = Fma_V1_ExitStatus.with { $0.signal = SIGTERM; $0.known = true }
        broadcast(.deleted, instance)
        return instance
    }

    func deleteAll() -> Fma_V1_DeleteAllInstancesResponse {
        let ids = Array(instances.keys)
        return Fma_V1_DeleteAllInstancesResponse.with { response in
            response.instances = ids.compactMap { try? delete($0) }
        }
    }

    func setSleeping(_ id: String, _ sleeping: Bool) throws(RPCError) -> Fma_V1_Instance {
        guard let running = instances[id] else { throw Self.notFound(id) }
        running.sleeping.withLockedValue { $0 = sleeping }
        instances[id]?.instance.sleepState = sleeping ? .sleeping : .awake
        instances[id]?.instance.sleepLevel = sleeping ? 1 : 0
        return publish(sleeping ? .sleeping : .awake, id)
    }

    func watch(since: UInt64?) throws(RPCError) -> AsyncThrowingStream<Fma_V1_InstanceEvent, any Error> {
        let backlog: [Fma_V1_InstanceEvent]
        if let since {
            guard since <= revision else {
                throw RPCError(.outOfRange, "revision \(since) is ahead of this launcher's revision \(revision)")
            }
            guard since == revision || history.first.map({ $0.revision <= since + 1 }) == true else {
                throw RPCError(.outOfRange, "revision \(since) is no longer retained")
            }
            backlog = history.filter { $0.revision > since }
        } else {
            backlog = instances.values.map(\.instance).sorted { $0.revision < $1.revision }.map { instance in
                Fma_V1_InstanceEvent.with { $0.type = .created; $0.revision = instance.revision; $0.instance = instance }
            }
        }
        let (stream, continuation) = AsyncThrowingStream<Fma_V1_InstanceEvent, any Error>.makeStream()
        for event in backlog { continuation.yield(event) }
        let id = nextWatcher
        nextWatcher += 1
        watchers[id] = continuation
        continuation.onTermination = { _ in Task { await self.removeWatcher(id) } }
        return stream
    }

    private func removeWatcher(_ id: UInt64) {
        watchers.removeValue(forKey: id)
    }

    private func publish(_ type: Fma_V1_InstanceEvent.TypeEnum, _ id: String) -> Fma_V1_Instance {
        revision += 1
        instances[id]?.instance.revision = revision
        let instance = instances[id]?.instance ?? Fma_V1_Instance()
        broadcast(type, instance)
        return instance
    }

    private func broadcast(_ type: Fma_V1_InstanceEvent.TypeEnum, _ instance: Fma_V1_Instance) {
        let event = Fma_V1_InstanceEvent.with { $0.type = type; $0.revision = revision; $0.instance = instance }
        history.append(event)
        if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
        for continuation in watchers.values { continuation.yield(event) }
    }

    private static func notFound(_ id: String) -> RPCError {
        RPCError(.notFound, "no instance '\(id)'", details: ["field": "id"])
    }

    /// The value of `--port N` or `--port=N` in vLLM's options.
    static func port(in options: String) -> Int? {
        let words = options.split(whereSeparator: \.isWhitespace).map(String.init)
        if let index = words.firstIndex(of: "--port"), index + 1 < words.count { return Int(words[index + 1]) }
        return words.first { $0.hasPrefix("--port=") }.flatMap { Int($0.dropFirst("--port=".count)) }
    }

    /// vLLM's two calls the controller makes to an instance.
    static func router(sleeping: NIOLockedValueBox<Bool>) -> HTTPRouter {
        var router = HTTPRouter()
        router.add(.GET, "/is_sleeping") { _ in
            HTTPResponse.text("{\"is_sleeping\": \(sleeping.withLockedValue { $0 })}", headers: ["Content-Type": "application/json"])
        }
        router.add(.POST, "/v1/completions") { _ in
            HTTPResponse.text("{\"object\": \"text_completion\", \"choices\": [{\"index\": 0, \"text\": \" hi\", \"finish_reason\": \"length\"}]}",
                              headers: ["Content-Type": "application/json"])
        }
        return router
    }
}

/// `fma.v1.Launcher` over a `SimulatedLauncher`.
struct SimulatedLauncherService: RPCService {
    static let serviceName = LauncherClient.service
    let launcher: SimulatedLauncher

    func register(in router: inout RPCRouter) {
        let launcher = self.launcher
        let service = LauncherClient.service
        router.unary("\(service)/CreateInstance") { (request: Fma_V1_CreateInstanceRequest, _) in
            try await launcher.create(request)
        }
        router.unary("\(service)/GetInstance") { (request: Fma_V1_GetInstanceRequest, _) in
            try await launcher.get(request.id)
        }
        router.unary("\(service)/ListInstances") { (_: Fma_V1_ListInstancesRequest, _) in
            await launcher.list()
        }
        router.unary("\(service)/DeleteInstance") { (request: Fma_V1_DeleteInstanceRequest, _) in
            try await launcher.delete(request.id)
        }
        router.unary("\(service)/DeleteAllInstances") { (_: Fma_V1_DeleteAllInstancesRequest, _) in
            await launcher.deleteAll()
        }
        router.unary("\(service)/SleepInstance") { (request: Fma_V1_SleepInstanceRequest, _) in
            try await launcher.setSleeping(request.id, true)
        }
        router.unary("\(service)/WakeInstance") { (request: Fma_V1_WakeInstanceRequest, _) in
            try await launcher.setSleeping(request.id, false)
        }
        router.unary("\(service)/IsSleeping") { (request: Fma_V1_IsSleepingRequest, _) in
            let instance = try await launcher.get(request.id)
            return Fma_V1_IsSleepingResponse.with { $0.isSleeping = instance.sleepState == .sleeping }
        }
        router.serverStreaming("\(service)/WatchInstances") { (request: Fma_V1_WatchInstancesRequest, writer: RPCResponseWriter<Fma_V1_InstanceEvent>, _) in
            let events = try await launcher.watch(since: request.hasSince_p ? request.since : nil)
            for try await event in events { try await writer.write(event) }
        }
    }
}
