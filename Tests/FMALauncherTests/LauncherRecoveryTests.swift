import FMAAPI
import FMARPC
import FMATestSupport
import FMAWire
import Foundation
import Testing

@Suite("fma-launcher: restarts, zygote deaths, many instances", .serialized)
struct LauncherRecoveryTests {
    @Test("a running instance's daemon is the instance's: a restarted launcher's sweeps for unrecorded processes leave it, a delete ends it")
    func daemonsOfLiveInstancesSurviveTheSweeps() async throws {
        try await withLauncher { launcher, client in
            let port = try freePort()
            _ = try await client.create(.fake(id: "daemonizing", port: port, ["--spawn-daemon"]))
            try await waitHealthy(port: port)
            let daemon = try #require(try await processReport(port: port).daemon_pid)

            try await launcher.killAndRestart()
            // The restarted launcher scans at its start and looks again a second later.
            try await waitUntil("the restarted launcher's second look") {
                launcher.process.stderr.contains("second look for processes no journal record describes done")
            }
            #expect(isAlive(daemon), "the live instance's daemon was stopped as unrecorded: \(launcher.process.stderr.split(separator: "\n").filter { $0.contains("\(daemon)") })")
            let fresh = launcher.client()
            #expect(try await fresh.get("daemonizing").status == .running)
            _ = try await fresh.delete("daemonizing", gracePeriodSeconds: 5)
            try await waitUntil("the daemon to go with its instance") { !isAlive(daemon) }
        }
    }

    @Test("after SIGKILL and a restart, live instances are adopted and dead ones reported STOPPED")
    func restartAdopts() async throws {
        try await withLauncher { launcher, client in
            let livePort = try freePort()
            let live = try await client.create(.fake(id: "survivor", port: livePort))
            let doomed = try await client.create(.fake(id: "doomed", port: try freePort()))
            try await waitHealthy(port: livePort)
            let slept = try await client.sleep("survivor", level: 1)
            let revision = try await client.list().revision

            launcher.process.signal(SIGKILL)
            try await launcher.process.waitForExit()
            kill(-doomed.pid, SIGKILL)
            try await waitUntil("the doomed instance to die") { !isAlive(doomed.pid) }
            #expect(isAlive(live.pid), "instances outlive the launcher")
            try await launcher.killAndRestart()

            let fresh = launcher.client()
            let survivor = try await fresh.get("survivor")
            #expect(survivor.status == .running && survivor.pid == live.pid && survivor.adopted)
            #expect(survivor.sleepState == .sleeping && survivor.sleepChangedUnixMs == slept.sleepChangedUnixMs,
                    "when it went to sleep is journaled")
            let dead = try await fresh.get("doomed")
            #expect(dead.status == .stopped)
            #expect(dead.revision > revision, "revisions keep increasing across restarts")
            let log = try await fresh.log("survivor")
            #expect(String(decoding: log.data, as: UTF8.self).contains("serving"))

            // Events live in memory only: a watch from before the restart must list again; from
            // the revision the launcher restarted at, it sees what recovery found.
            let stale = await #expect(throws: RPCError.self) {
                _ = try await fresh.watch(since: revision - 1).first { _ in true }
            }
            #expect(stale?.code == .outOfRange)
            let recovered = await collect(try await fresh.watch(since: revision)) { $0.instance.id == "doomed" }
            #expect(recovered.last?.type == .stopped && recovered.last?.instance.id == "doomed")

            // The adopted instance's exit is still seen.
            let watch = try await fresh.watch(since: try await fresh.list().revision)
            kill(live.pid, SIGTERM)
            let stopped = await collect(watch) { $0.instance.id == "survivor" }.last.flatMap { $0.instance.id == "survivor" ? $0 : nil }
            #expect(stopped?.type == .stopped)
        }
    }

    @Test("a killed zygote is replaced; later creates still fork warm")
    func zygoteReplaced() async throws {
        try await withLauncher { launcher, client in
            let port = try freePort()
            let before = try await client.create(.fake(id: "before", port: port))
            let zygote = try #require(launcher.zygotePID)
            kill(zygote, SIGKILL)
            try await waitUntil("a new zygote") { (launcher.zygotePID ?? zygote) != zygote }
            #expect(isAlive(before.pid), "running instances are unaffected")
            let afterPort = try freePort()
            let after = try await Self.createRetrying(client, .fake(id: "after", port: afterPort, ["--import", "xml.dom.minidom"]))
            try await waitHealthy(port: afterPort)
            let report = try await processReport(port: afterPort)
            #expect(report.preloaded == ["xml.dom.minidom"], "the new zygote had preloaded it: the fork was warm")
            #expect(report.ppid == launcher.zygotePID, "forked by the new zygote")
            #expect(after.spawnMode == "fork")
        }
    }

    @Test("SIGTERM ends open watches and log followers at once; the launcher exits 0")
    func sigtermEndsStreams() async throws {
        try await withLauncher { launcher, client in
            let port = try freePort()
            _ = try await client.create(.fake(id: "streamed", port: port))
            try await waitHealthy(port: port)
            var watch = try await client.watch().makeAsyncIterator()
            #expect(try await watch.next()?.instance.id == "streamed")
            var follow = try await client.followLog("streamed").makeAsyncIterator()
            _ = try await follow.next()
            let started = ContinuousClock.now
            launcher.process.signal(SIGTERM)
            let watchEnd = await #expect(throws: RPCError.self) { while try await watch.next() != nil {} }
            #expect(watchEnd?.code == .unavailable)
            let followEnd = await #expect(throws: RPCError.self) { while try await follow.next() != nil {} }
            #expect(followEnd?.code == .unavailable)
            let termination = try await launcher.process.waitForExit(timeout: .seconds(10))
            #expect(termination.exitCode == 0)
            #expect(ContinuousClock.now - started < .seconds(20), "well before the 30 s drain timeout")
        }
    }

    static func createRetrying(_ client: LauncherClient, _ request: Fma_V1_CreateInstanceRequest) async throws -> Fma_V1_Instance {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let result: Result<Fma_V1_Instance, RPCError>
            do {
                result = .success(try await client.create(request))
            } catch {
                result = .failure(error)
            }
            switch result {
            case .success(let instance):
                return instance
            case .failure(let error):
                // UNAVAILABLE while the new zygote preloads; anything else is a failure.
                guard error.code == .unavailable, ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @Test("50 concurrent creates and deletes leave no stray process or descriptor")
    func manyConcurrent() async throws {
        try await withLauncher { launcher, client in
            let descriptorsBefore = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(launcher.process.pid)/fd").count
            var unique = Set<Int>()
            while unique.count < 50 { unique.insert(try freePort()) }
            let ports = Array(unique)
            let created = try await withThrowingTaskGroup(of: Fma_V1_Instance.self) { group in
                for (index, port) in ports.enumerated() {
                    group.addTask { try await client.create(.fake(id: "many-\(index)", port: port)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(created.count == 50)
            #expect(Set(created.map(\.pid)).count == 50)
            let deleted = try await withThrowingTaskGroup(of: Fma_V1_Instance.self) { group in
                for instance in created {
                    group.addTask { try await client.delete(instance.id) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(deleted.allSatisfy { $0.status == .stopped })
            for instance in created { #expect(!isAlive(instance.pid), "instance \(instance.id) is gone") }
            let list = try await client.list()
            #expect(list.instances.isEmpty)
            try await waitUntil(timeout: .seconds(10), "the launcher's descriptors to settle") {
                let now = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(launcher.process.pid)/fd").count
                return now <= descriptorsBefore + 2
            }
        }
    }
}

@Suite("fma-launcher supervise")
struct LauncherSupervisorTests {
    @Test("the supervisor restarts a killed server, which adopts the instances; an orphan's exit code is kept")
    func supervisorRestartsAndRecordsExits() async throws {
        try await withTemporaryDirectory { dir in
            let state = dir + "/state"
            let socket = dir + "/l.sock"
            let ready = dir + "/ready"
            let supervisor = try ChildProcess(binDirectory + "/fma-launcher", [
                "supervise", "--state-dir", state, "--restart-delay", "0.1", "--",
                "serve", "--listen", "unix:\(socket)", "--state-dir", state, "--python-path", repositoryRoot + "/python",
                "--entrypoint", "fma_fakevllm", "--preload", "fma_fakevllm.server", "--mock-gpus", "1", "--ready-file", ready,
            ], directory: dir)
            var instancePID: Int32 = 0
            defer {
                if instancePID > 0 { kill(-instancePID, SIGKILL) }
                supervisor.stop()
            }
            try await waitUntil(timeout: .seconds(60), "the supervised launcher") { FileManager.default.fileExists(atPath: ready) }
            let client = LauncherClient(RPCClient(address: .unix(path: socket)))
            let port = try freePort()
            let created = try await client.create(.fake(id: "kept", port: port))
            instancePID = created.pid
            try await waitHealthy(port: port)

            // Kill the server (the supervisor's child); its zygote exits with it, so the
            // instance is orphaned and reparented to the supervisor, the subreaper.
            let server = try #require(Self.child(of: supervisor.pid, named: "fma-launcher"))
            try FileManager.default.removeItem(atPath: ready)
            kill(server, SIGKILL)
            try await waitUntil(timeout: .seconds(60), "the restarted launcher") { FileManager.default.fileExists(atPath: ready) }
            let adopted = try await Self.retrying { try await client.get("kept") }
            #expect(adopted.adopted && adopted.status == .running && adopted.pid == created.pid)

            // The instance exits with a code of its choosing: the supervisor reaps it and
            // records the status, and the launcher reports it.
            try await waitUntil("the instance to be reparented to the supervisor") { Self.parent(of: created.pid) == supervisor.pid }
            let watch = try await client.watch(since: try await client.list().revision)
            kill(created.pid, SIGKILL)
            let stopped = await collect(watch) { $0.instance.id == "kept" }.last.flatMap { $0.instance.id == "kept" ? $0 : nil }
            #expect(stopped?.type == .stopped)
            #expect(stopped?.instance.exit.known == true && stopped?.instance.exit.signal == SIGKILL)

            // An open watch would hold the server's drain: close the connection first.
            await client.rpc.close()
            supervisor.signal(SIGTERM)
            let termination = try await supervisor.waitForExit()
            #expect(termination.exitCode == 0, "stderr: \(supervisor.stderr)")
        }
    }

    static func parent(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    static func child(of parent: Int32, named name: String) -> Int32? {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), Self.parent(of: pid) == parent,
                  let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                  command.contains(name) else { continue }
            return pid
        }
        return nil
    }

    static func retrying<T>(_ body: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            do {
                return try await body()
            } catch {
                guard ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }
}
