import CFMAProcess
public import FMAHTTPServer
public import FMARPC
import FMAWire
import Foundation
public import Logging
import NIOConcurrencyHelpers

/// The launcher process's parts, wired: reaper, zygote, spawner, instance manager, and the
/// RPC service that exposes them.
public final class Launcher: Sendable {
    public let configuration: LauncherConfiguration
    let manager: InstanceManager
    let zygote: Zygote?
    private let reaper: ProcessReaper
    private let logger: Logger

    public init(configuration: LauncherConfiguration, translator: any GPUTranslator, admin: any InstanceAdmin, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        for directory in [configuration.stateDirectory, configuration.logDirectory] {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw RPCError(.failedPrecondition, "cannot create the state directory \(directory): \(error.localizedDescription)")
            }
        }
        // Orphaned instances (their zygote died) are reparented here, so their exits are seen.
        if fma_set_child_subreaper() != 0 {
            logger.warning("cannot become a child subreaper; exits of instances whose zygote died will be missed",
                           metadata: ["error": "\(String(cString: strerror(errno)))"])
        }
        let box = ManagerBox()
        let reaper = ProcessReaper { pid, status in box.reaped(pid, status) }
        self.reaper = reaper
        let zygote = configuration.spawnMode == .fork
            ? Zygote(configuration: configuration, reaper: reaper, logger: logger) { pid, exit in box.exited(pid, exit) }
            : nil
        self.zygote = zygote
        let spawner = InstanceSpawner(configuration: configuration, zygote: zygote, reaper: reaper)
        manager = InstanceManager(configuration: configuration, spawner: spawner, translator: translator, admin: admin, logger: logger)
        box.set(manager: manager, zygote: zygote)
        reaper.start()
    }

    /// Takes over instances left by a previous launcher, and starts the zygote.
    public func start() async throws {
        let records = ExitRecords(directory: configuration.exitRecordDirectory)
        let adopted = await manager.recover(exitRecords: records)
        let manager = self.manager
        for pid in adopted {
            let watching = AdoptedProcessWatcher.watch(pid: pid) {
                Task {
                    // A supervisor that reaped it may write its status a moment later.
                    var exit: ExitRecord?
                    for _ in 0..<20 {
                        exit = records.take(pid: pid)
                        if exit != nil { break }
                        try? await Task.sleep(for: .milliseconds(25))
                    }
                    await manager.processExited(pid: pid, exit: exit ?? .unknown)
                }
            }
            if !watching { await manager.processExited(pid: pid, exit: records.take(pid: pid) ?? .unknown) }
        }
        Task { [manager] in
            try? await Task.sleep(for: .seconds(1))
            await manager.sweepUnrecordedProcesses()
        }
        try await zygote?.ensureReady()
    }

    /// Whether the journal can be written (Health reports NOT_SERVING while it cannot).
    public var journalHealth: JournalHealth { manager.journalHealth }

    /// The RPC service to serve.
    public var service: any RPCService { LauncherService(manager: manager, logs: LogReader()) }

    /// FMA's REST API over the same instances (`--rest-port`), admitting what `access` allows.
    public func restRouter(access: RESTAccess) -> HTTPRouter {
        var router = LauncherRESTAPI(manager: manager, logs: LogReader()).router
        router.admission = { request in try access.check(request) }
        return router
    }

    /// Asks the zygote to exit; instances keep running (a new launcher adopts them). The
    /// journal's last flush to disk finishes first.
    public func shutdown() async {
        zygote?.shutdown()
        await manager.releaseCgroups()
        manager.journal.flusher?.drain()
    }
}

/// Routes exits from the reaper and the zygote to the manager, which is made after them.
private final class ManagerBox: Sendable {
    private let parts = NIOLockedValueBox<(manager: InstanceManager?, zygote: Zygote?)>((nil, nil))

    func set(manager: InstanceManager, zygote: Zygote?) {
        parts.withLockedValue { $0 = (manager, zygote) }
    }

    func reaped(_ pid: Int32, _ status: Int32) {
        let (manager, zygote) = parts.withLockedValue { $0 }
        if zygote?.reaped(pid, status: status) == true { return }
        guard let manager else { return }
        Task { await manager.processExited(pid: pid, exit: ExitRecord(waitStatus: status)) }
    }

    func exited(_ pid: Int32, _ exit: ExitRecord) {
        guard let manager = parts.withLockedValue({ $0.manager }) else { return }
        Task { await manager.processExited(pid: pid, exit: exit) }
    }
}
