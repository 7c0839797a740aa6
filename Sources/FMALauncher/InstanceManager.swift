import FMARPC
import FMAWire
import Foundation
import Logging

/// The launcher's instances: their table, revisions, events and watchers.
///
/// An actor: calls that wait (a fork, a stop's grace period, an admin call) suspend without
/// holding up others — a delete never blocks the API.
actor InstanceManager {
    let configuration: LauncherConfiguration
    private let spawner: InstanceSpawner
    private let translator: any GPUTranslator
    let admin: any InstanceAdmin
    let journal: Journal
    let journalHealth = JournalHealth()
    let logger: Logger

    var instances: [String: InstanceRecord] = [:] {
        didSet {
            cachedList = nil
            cachedEncoded = [:]
        }
    }
    var idsByPID: [Int32: String] = [:]
    /// Exits reported before the spawn call returned the pid.
    private var earlyExits: [Int32: ExitRecord] = [:]
    var revision: UInt64 = 0
    private var ring: EventRing
    private var watchers: [UInt64: AsyncThrowingStream<Fma_V1_InstanceEvent, any Error>.Continuation] = [:]
    private var nextWatcherID: UInt64 = 0
    private var deleteWaiters: [String: [CheckedContinuation<Result<Fma_V1_Instance, RPCError>, Never>]] = [:]
    /// The list at the current revision (full, and encoded full and ids-only), made once per
    /// change rather than once per call: List is what pollers and readiness probes call.
    private var cachedList: Fma_V1_ListInstancesResponse?
    private var cachedEncoded: [Bool: Data] = [:]
    /// The readiness probe of each running instance with a --port (InstanceManager+Readiness).
    var probes: [String: Task<Void, Never>] = [:]
    /// A cgroup per forked instance, where one can be made.
    let cgroups: InstanceCgroups?

    init(configuration: LauncherConfiguration, spawner: InstanceSpawner, translator: any GPUTranslator,
         admin: any InstanceAdmin, logger: Logger) {
        self.configuration = configuration
        self.spawner = spawner
        self.translator = translator
        self.admin = admin
        let health = journalHealth
        let path = configuration.journalPath
        self.journal = Journal(path: path, flusher: JournalFlusher(path: path) { reason in
            health.failed(reason)
            logger.error("cannot flush the journal to disk", metadata: ["path": "\(path)", "error": "\(reason)"])
        })
        self.logger = logger
        self.cgroups = configuration.instanceCgroups && configuration.spawnMode == .fork
            ? InstanceCgroups.discover(stateDirectory: configuration.stateDirectory, logger: logger) : nil
        self.ring = EventRing(capacity: configuration.eventHistory)
    }

    // MARK: - Create

    func create(_ request: Fma_V1_CreateInstanceRequest) async throws(RPCError) -> Fma_V1_Instance {
        let spec = try InstanceSpec(request, generatedID: UUID().uuidString.lowercased())
        guard instances[spec.id] == nil else {
            throw RPCError(.alreadyExists, "instance '\(spec.id)' already exists", details: ["field": "id"])
        }
        let live = instances.values.filter(\.isLive).count
        guard live < configuration.maxInstances else {
            throw RPCError(.resourceExhausted, "this launcher already runs \(live) instances, its --max-instances")
        }
        if let port = spec.port, port != 0, let other = instances.values.first(where: { $0.isLive && $0.spec.port == port }) {
            throw RPCError(.failedPrecondition, "instance '\(other.spec.id)' already uses --port \(port)", details: ["field": "options"])
        }
        var env = spec.env
        if !spec.gpuUUIDs.isEmpty {
            let indices = try await translator.indices(of: spec.gpuUUIDs)
            env["CUDA_VISIBLE_DEVICES"] = indices.map(String.init).joined(separator: ",")
        }
        // The await above let other calls in: check the id again before reserving it.
        guard instances[spec.id] == nil else {
            throw RPCError(.alreadyExists, "instance '\(spec.id)' already exists", details: ["field": "id"])
        }
        let logPath = "\(configuration.logDirectory)/\(spec.id).log"
        // A fresh, empty log: a re-used id must not show its predecessor's output.
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
            throw RPCError(.internal, "cannot create the log file \(logPath): \(String(cString: strerror(errno)))")
        }
        instances[spec.id] = InstanceRecord(
            spec: spec, phase: .starting, effectiveEnv: env,
            createdUnixMs: Int64(Date().timeIntervalSince1970 * 1000), logPath: logPath,
            spawnMode: configuration.spawnMode.rawValue)
        // The intent is on disk before the process exists.
        do {
            try saveJournal()
        } catch {
            instances.removeValue(forKey: spec.id)
            try? FileManager.default.removeItem(atPath: logPath)
            throw error
        }

        let pid: Int32
        do {
            pid = try await spawner.spawn(SpawnRequest(id: spec.id, options: spec.options, env: env, logPath: logPath,
                                                       cgroup: cgroups?.create(spec.id)))
        } catch {
            instances.removeValue(forKey: spec.id)
            try? FileManager.default.removeItem(atPath: logPath)
            logger.error("instance failed to start", metadata: ["instance": "\(spec.id)", "error": "\(error.message)"])
            throw error
        }
        guard var record = instances[spec.id] else {
            throw RPCError(.internal, "instance '\(spec.id)' vanished while it started")
        }
        record.pid = pid
        record.startTicks = ProcessStartTime.ticks(of: pid) ?? 0
        record.phase = .running
        do {
            record = try publish(.created, record)
        } catch {
            // Not recorded, so not acknowledged: the process goes.
            kill(-pid, SIGKILL)
            instances.removeValue(forKey: spec.id)
            try? saveJournal()
            throw error
        }
        idsByPID[pid] = spec.id
        logger.info("instance created", metadata: ["instance": "\(spec.id)", "pid": "\(pid)", "revision": "\(record.revision)"])
        startReadinessProbe(spec.id)
        if let exit = earlyExits.removeValue(forKey: pid) {
            processExited(pid: pid, exit: exit)
            return instances[spec.id]?.proto ?? record.proto
        }
        return record.proto
    }

    // MARK: - Read

    func get(_ id: String) throws(RPCError) -> Fma_V1_Instance {
        try record(id).proto
    }

    func list(idsOnly: Bool) -> Fma_V1_ListInstancesResponse {
        let full: Fma_V1_ListInstancesResponse
        if let cachedList {
            full = cachedList
        } else {
            var response = Fma_V1_ListInstancesResponse()
            response.revision = revision
            response.instances = instances.values
                .sorted { ($0.createdUnixMs, $0.spec.id) < ($1.createdUnixMs, $1.spec.id) }
                .map(\.proto)
            cachedList = response
            full = response
        }
        guard idsOnly else { return full }
        var ids = Fma_V1_ListInstancesResponse()
        ids.revision = full.revision
        ids.ids = full.instances.map(\.id)
        return ids
    }

    /// `list(idsOnly:)`, encoded; the same bytes until the next change.
    func encodedList(idsOnly: Bool) throws -> Data {
        if let encoded = cachedEncoded[idsOnly] { return encoded }
        let encoded: Data = try list(idsOnly: idsOnly).serializedBytes()
        cachedEncoded[idsOnly] = encoded
        return encoded
    }

    func logPath(_ id: String) throws(RPCError) -> String {
        try record(id).logPath
    }

    /// True while the instance exists (a follower stops when it is deleted).
    func exists(_ id: String) -> Bool { instances[id] != nil }

    private func record(_ id: String) throws(RPCError) -> InstanceRecord {
        guard let record = instances[id] else {
            throw RPCError(.notFound, "instance \(RPCError.quote(id)) not found", details: ["field": "id"])
        }
        return record
    }

    // MARK: - Delete

    /// Stops the instance (SIGTERM to its group, SIGKILL after `grace`) and forgets it.
    func delete(_ id: String, grace: Duration?) async throws(RPCError) -> Fma_V1_Instance {
        var record = try record(id)
        let grace = grace ?? configuration.defaultGracePeriod
        switch record.phase {
        case .starting:
            throw RPCError(.failedPrecondition, "instance '\(id)' is still starting; delete it once CreateInstance has returned")
        case .stopped:
            return try finishDelete(id).get()
        case .running, .stopping:
            if case .running = record.phase {
                record.phase = .stopping
                record.ready = false
                instances[id] = record
                stopReadinessProbe(id)
                kill(-record.pid, SIGTERM)
                logger.info("stopping instance", metadata: ["instance": "\(id)", "pid": "\(record.pid)", "grace_seconds": "\(grace.components.seconds)"])
                let pid = record.pid
                Task { [weak self] in
                    try? await Task.sleep(for: grace)
                    await self?.escalate(id, pid: pid)
                }
            }
            return try await withCheckedContinuation { continuation in
                deleteWaiters[id, default: []].append(continuation)
            }.get()
        }
    }

    func deleteAll(grace: Duration?) async -> [Fma_V1_Instance] {
        await withTaskGroup(of: Fma_V1_Instance?.self) { group in
            for id in instances.keys {
                group.addTask { try? await self.delete(id, grace: grace) }
            }
            var deleted: [Fma_V1_Instance] = []
            for await instance in group { if let instance { deleted.append(instance) } }
            return deleted.sorted { $0.id < $1.id }
        }
    }

    private func escalate(_ id: String, pid: Int32) {
        guard let record = instances[id], record.pid == pid, case .stopping = record.phase else { return }
        logger.warning("instance ignored SIGTERM for the grace period; killing its process group",
                       metadata: ["instance": "\(id)", "pid": "\(pid)"])
        kill(-pid, SIGKILL)
    }

    /// Removes a stopped instance: DELETED event, log file gone, waiters answered. When the
    /// journal cannot record the removal, the instance stays, stopped, and the delete fails.
    @discardableResult
    private func finishDelete(_ id: String) -> Result<Fma_V1_Instance, RPCError> {
        guard let stopped = instances[id] else { return .success(Fma_V1_Instance()) }
        let result: Result<Fma_V1_Instance, RPCError>
        do {
            let record = try publish(.deleted, stopped, remove: true)
            idsByPID.removeValue(forKey: record.pid)
            try? FileManager.default.removeItem(atPath: record.logPath)
            try? FileManager.default.removeItem(atPath: PreloadGapReport.path(forLog: record.logPath))
            cgroups?.remove(id)
            logger.info("instance deleted", metadata: ["instance": "\(id)", "revision": "\(record.revision)"])
            result = .success(record.proto)
        } catch {
            logger.error("instance stopped, but its removal is not journaled; it stays, stopped", metadata: ["instance": "\(id)"])
            result = .failure(error)
        }
        for waiter in deleteWaiters.removeValue(forKey: id) ?? [] { waiter.resume(returning: result) }
        return result
    }

    // MARK: - Exits

    /// An instance's process ended (reported by the zygote, the reaper or a pidfd watcher).
    func processExited(pid: Int32, exit: ExitRecord) {
        guard let id = idsByPID[pid], var record = instances[id] else {
            // Not (yet) known: a fork whose reply is still on its way, or a process an instance
            // started and left (reparented to the launcher, a subreaper).
            if instances.values.contains(where: { $0.phase == .starting }) { earlyExits[pid] = exit }
            logger.debug("a process that is no instance's own ended", metadata: ["pid": "\(pid)", "exit": "\(exit.summary)"])
            return
        }
        let stopping = record.phase == .stopping
        record.phase = .stopped(exit)
        record.ready = false
        instances[id] = record
        stopReadinessProbe(id)
        // Whatever else the instance started goes with it: what is left in its process group,
        // and daemons that left it (setsid and a double fork) but still write to its log.
        kill(-pid, SIGKILL)
        stopLeftovers(of: id)
        if stopping {
            finishDelete(id)
        } else {
            publish(fact: .stopped, record)
            logger.warning("instance exited", metadata: ["instance": "\(id)", "pid": "\(pid)", "exit": "\(exit.summary)"])
        }
    }

    // MARK: - Sleep and wake

    func sleep(_ id: String, level: UInt32) async throws(RPCError) -> Fma_V1_Instance {
        let level = level == 0 ? 1 : level
        guard level == 1 || level == 2 else {
            throw .invalidArgument(field: "level", "sleep level \(level) is not 1 or 2")
        }
        let port = try adminPort(id)
        try await admin.sleep(host: configuration.adminHost, port: port, level: level, instance: id)
        return try setSleeping(id, true, level: level)
    }

    func wake(_ id: String) async throws(RPCError) -> Fma_V1_Instance {
        let port = try adminPort(id)
        try await admin.wake(host: configuration.adminHost, port: port, instance: id)
        return try setSleeping(id, false, level: 0)
    }

    func isSleeping(_ id: String) async throws(RPCError) -> Bool {
        let port = try adminPort(id)
        let sleeping = try await admin.isSleeping(host: configuration.adminHost, port: port, instance: id)
        if let record = instances[id], record.sleeping != sleeping {
            _ = try setSleeping(id, sleeping, level: sleeping ? max(1, record.sleepLevel) : 0)
        }
        return sleeping
    }

    private func adminPort(_ id: String) throws(RPCError) -> UInt32 {
        let record = try record(id)
        guard case .running = record.phase else {
            throw RPCError(.failedPrecondition, "instance '\(id)' is not running")
        }
        guard let port = record.spec.port else {
            throw RPCError(.failedPrecondition, "instance '\(id)' has no --port option, so its admin API cannot be reached")
        }
        return port
    }

    private func setSleeping(_ id: String, _ sleeping: Bool, level: UInt32) throws(RPCError) -> Fma_V1_Instance {
        var record = try record(id)
        guard record.sleeping != sleeping || record.sleepLevel != level else { return record.proto }
        if record.sleeping != sleeping { record.sleepChangedUnixMs = Int64(Date().timeIntervalSince1970 * 1000) }
        record.sleeping = sleeping
        record.sleepLevel = level
        return try publish(sleeping ? .sleeping : .awake, record).proto
    }

    // MARK: - Events

    /// A change a call asked for: journaled first (at the next revision, the record stamped with
    /// it, stored or `remove`d), then made and fanned out. When the journal cannot be written
    /// nothing changes and the call fails with UNAVAILABLE.
    private func publish(_ type: Fma_V1_InstanceEvent.TypeEnum, _ record: InstanceRecord, remove: Bool = false) throws(RPCError) -> InstanceRecord {
        var record = record
        record.revision = revision + 1
        var table = instances
        if remove { table.removeValue(forKey: record.spec.id) } else { table[record.spec.id] = record }
        try saveJournal(table, revision: record.revision)
        commit(type, record, table: table)
        return record
    }

    /// A fact (an instance exited, or was found dead at start): made and fanned out whatever the
    /// journal says; a failed write only shows in Health until a later write succeeds.
    func publish(fact type: Fma_V1_InstanceEvent.TypeEnum, _ record: InstanceRecord) {
        var record = record
        record.revision = revision + 1
        var table = instances
        table[record.spec.id] = record
        try? saveJournal(table, revision: record.revision)
        commit(type, record, table: table)
    }

    private func commit(_ type: Fma_V1_InstanceEvent.TypeEnum, _ record: InstanceRecord, table: [String: InstanceRecord]) {
        revision = record.revision
        instances = table
        var event = Fma_V1_InstanceEvent()
        event.type = type
        event.revision = revision
        event.instance = record.proto
        ring.append(event)
        fanOut(event)
    }

    /// A change that takes no revision (readiness): stored, and sent to the watchers connected
    /// now with the instance's own revision; never replayed by `since`.
    func announce(_ type: Fma_V1_InstanceEvent.TypeEnum, _ record: InstanceRecord) {
        instances[record.spec.id] = record
        var event = Fma_V1_InstanceEvent()
        event.type = type
        event.revision = record.revision
        event.instance = record.proto
        fanOut(event)
    }

    private func fanOut(_ event: Fma_V1_InstanceEvent) {
        for (id, watcher) in watchers {
            if case .dropped = watcher.yield(event) {
                watcher.finish(throwing: RPCError(.outOfRange, "this watcher fell \(ring.capacity) events behind; list the instances and watch again from the list's revision"))
                watchers.removeValue(forKey: id)
            }
        }
    }

    /// A stream of events: CREATED for every instance then live events, or the events after `since`.
    func watch(since: UInt64?) throws(RPCError) -> AsyncThrowingStream<Fma_V1_InstanceEvent, any Error> {
        let backlog: [Fma_V1_InstanceEvent]
        if let since {
            guard since <= revision else {
                throw RPCError(.outOfRange, "revision \(since) is ahead of this launcher's revision \(revision) (a watch from another launcher, or from before its state was lost?); list the instances and watch from the list's revision",
                               details: ["field": "since", "current": "\(revision)"])
            }
            guard let retained = ring.events(after: since, current: revision) else {
                let oldest = ring.ordered.first.map { "\($0.revision - 1)" } ?? "\(revision)"
                throw RPCError(.outOfRange, "revision \(since) is no longer retained (the oldest watch can resume after \(oldest)); list the instances and watch from the list's revision",
                               details: ["field": "since", "oldest": oldest])
            }
            backlog = retained
        } else {
            backlog = instances.values.sorted { $0.revision < $1.revision }.map { record in
                var event = Fma_V1_InstanceEvent()
                event.type = .created
                event.revision = record.revision
                event.instance = record.proto
                return event
            }
        }
        let (stream, continuation) = AsyncThrowingStream<Fma_V1_InstanceEvent, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(ring.capacity + backlog.count))
        for event in backlog { continuation.yield(event) }
        let id = nextWatcherID
        nextWatcherID += 1
        watchers[id] = continuation
        continuation.onTermination = { _ in Task { await self.removeWatcher(id) } }
        return stream
    }

    private func removeWatcher(_ id: UInt64) {
        watchers.removeValue(forKey: id)
    }

    // MARK: - Journal

    /// Writes `table` (default: the current one) to the journal; a failure is UNAVAILABLE,
    /// logged, counted and reported by Health until a write succeeds.
    func saveJournal(_ table: [String: InstanceRecord]? = nil, revision: UInt64? = nil) throws(RPCError) {
        do {
            try journal.save(.init(revision: revision ?? self.revision, instances: Array((table ?? instances).values)))
            journalHealth.succeeded()
        } catch {
            let reason = (error as? RPCError)?.message ?? "\(error)"
            journalHealth.failed(reason)
            logger.error("cannot save the journal", metadata: ["path": "\(configuration.journalPath)", "error": "\(reason)"])
            throw RPCError(.unavailable, "the change was not made: the launcher's journal cannot be written (\(reason)), so it could not remember it across a restart")
        }
    }
}
