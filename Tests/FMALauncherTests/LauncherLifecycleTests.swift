import FMAAPI
import FMARPC
import FMATestSupport
import FMAWire
@testable import FMALauncher
import Foundation
import Testing

@Suite("fma-launcher: instances from create to delete", .serialized)
struct LauncherLifecycleTests {
    @Test("create, get, list and delete move the revision; the child gets its env, GPUs and own process group")
    func lifecycle() async throws {
        try await withLauncher { launcher, client in
            let before = try await client.list()
            let port = try freePort()
            let gpus = MockGPUs.uuids(node: launcher.node, count: 4)
            let created = try await client.create(.fake(id: "alpha", port: port, ["--import", "xml.dom.minidom"], env: ["FMA_TEST": "yes"], gpus: [gpus[2], gpus[0]]))
            #expect(created.id == "alpha")
            #expect(created.status == .running)
            #expect(created.revision == before.revision + 1)
            #expect(created.envVars["CUDA_VISIBLE_DEVICES"] == "2,0")
            #expect(created.port == UInt32(port))
            #expect(created.spawnMode == "fork")
            try await waitHealthy(port: port)

            let report = try await processReport(port: port)
            #expect(report.pid == created.pid)
            #expect(report.pgid == report.pid, "the instance leads its own process group")
            #expect(report.sid == report.pid, "and its own session")
            #expect(report.env["FMA_TEST"] == "yes")
            #expect(report.env["CUDA_VISIBLE_DEVICES"] == "2,0")
            #expect(report.blocked_signals.isEmpty, "no signal is blocked in the child")
            #expect(report.sigterm == "0" || report.sigterm.contains("SIG_DFL"), "SIGTERM has its default disposition, not \(report.sigterm)")
            // As in a freshly started interpreter: a write to a closed socket must not kill the server.
            #expect(report.sigpipe == "1" || report.sigpipe.contains("SIG_IGN"), "SIGPIPE is ignored, not \(report.sigpipe)")
            #expect(report.sigint.contains("default_int_handler"), "SIGINT raises KeyboardInterrupt, not \(report.sigint)")
            #expect(report.preloaded == ["xml.dom.minidom"], "imported in the zygote before the fork")
            // Besides stdio, only the server's own sockets (listening and this request's): nothing
            // inherited from the zygote or the launcher (control socket, journal, pipes).
            let inherited = report.fds.filter { Int($0.key)! > 2 && !$0.value.hasPrefix("socket:") }
            #expect(inherited.isEmpty, "descriptors the child should not have: \(inherited)")
            #expect(report.fds.count <= 5, "descriptors: \(report.fds)")
            #expect(report.fds["1"]?.hasSuffix("/alpha.log") == true && report.fds["2"] == report.fds["1"])

            let got = try await client.get("alpha")
            #expect(got.revision == created.revision)
            let listed = try await client.list()
            #expect(listed.instances.map(\.id) == ["alpha"])
            #expect(listed.revision == created.revision)
            let ids = try await client.list(idsOnly: true)
            #expect(ids.ids == ["alpha"] && ids.instances.isEmpty)

            let deleted = try await client.delete("alpha")
            #expect(deleted.status == .stopped)
            #expect(deleted.revision == created.revision + 1)
            #expect(!isAlive(created.pid))
            let after = try await client.list()
            #expect(after.instances.isEmpty)
            #expect(after.revision == deleted.revision)
            let gone = await #expect(throws: RPCError.self) { _ = try await client.get("alpha") }
            #expect(gone?.code == .notFound)
        }
    }

    @Test("bad requests get precise errors and change nothing")
    func badRequests() async throws {
        try await withLauncher { launcher, client in
            let port = try freePort()
            _ = try await client.create(.fake(id: "one", port: port))
            let revision = try await client.list().revision

            let duplicate = await #expect(throws: RPCError.self) { _ = try await client.create(.fake(id: "one", port: try freePort())) }
            #expect(duplicate?.code == .alreadyExists)
            let unknownGPU = await #expect(throws: RPCError.self) {
                _ = try await client.create(.fake(id: "two", port: try freePort(), gpus: ["GPU-nope"]))
            }
            #expect(unknownGPU?.code == .invalidArgument)
            #expect(unknownGPU?.message.contains("GPU-nope") == true)
            #expect(unknownGPU?.message.contains(MockGPUs.uuid(node: launcher.node, index: 0)) == true, "the known UUIDs are listed")
            let badEnv = await #expect(throws: RPCError.self) {
                _ = try await client.create(.fake(id: "three", port: try freePort(), env: ["1BAD": "x"]))
            }
            #expect(badEnv?.code == .invalidArgument && badEnv?.details["field"] == "env_vars")
            let badID = await #expect(throws: RPCError.self) { _ = try await client.create(.fake(id: "no spaces", port: try freePort())) }
            #expect(badID?.code == .invalidArgument && badID?.details["field"] == "id")
            let empty = await #expect(throws: RPCError.self) { _ = try await client.create(.with { $0.id = "four" }) }
            #expect(empty?.code == .invalidArgument && empty?.details["field"] == "options")
            let samePort = await #expect(throws: RPCError.self) { _ = try await client.create(.fake(id: "five", port: port)) }
            #expect(samePort?.code == .failedPrecondition)
            let unknown = await #expect(throws: RPCError.self) { _ = try await client.delete("nobody") }
            #expect(unknown?.code == .notFound)
            let badQuote = await #expect(throws: RPCError.self) {
                _ = try await client.create(.with { $0.id = "six"; $0.optionsString = "--model 'unclosed" })
            }
            #expect(badQuote?.code == .invalidArgument && badQuote?.details["field"] == "options_string")

            let after = try await client.list()
            #expect(after.revision == revision, "no failed request moved the revision")
            #expect(after.instances.map(\.id) == ["one"])
        }
    }

    @Test("options given as one string are split like a shell would, quotes included")
    func optionsString() async throws {
        try await withLauncher { _, client in
            let port = try freePort()
            _ = try await client.create(.with {
                $0.id = "quoted"
                $0.optionsString = "--host 127.0.0.1 --port \(port) --model 'my model' --import \"\""
            })
            try await waitHealthy(port: port)
            let report = try await processReport(port: port)
            #expect(Array(report.argv.dropFirst()) == ["--host", "127.0.0.1", "--port", "\(port)", "--model", "my model", "--import", ""])
        }
    }

    @Test("a child that ignores SIGTERM is killed after the grace period, with its grandchild")
    func graceThenKill() async throws {
        try await withLauncher { _, client in
            let port = try freePort()
            let created = try await client.create(.fake(id: "stubborn", port: port, ["--ignore-sigterm", "--spawn-grandchild"]))
            try await waitHealthy(port: port)
            let report = try await processReport(port: port)
            let grandchild = try #require(report.grandchild_pid)
            #expect(isAlive(grandchild))
            let started = ContinuousClock.now
            let deleted = try await client.delete("stubborn", gracePeriodSeconds: 0.5)
            let took = ContinuousClock.now - started
            #expect(deleted.exit.signal == SIGKILL)
            #expect(took >= .milliseconds(450), "the grace period was waited out")
            #expect(!isAlive(created.pid))
            try await waitUntil("the grandchild to die") { !isAlive(grandchild) }
        }
    }

    @Test("a daemon an instance starts (fork, setsid, fork) dies with the instance: on delete, and when the instance exits by itself")
    func daemonsDieWithTheInstance() async throws {
        try await withLauncher { launcher, client in
            let port = try freePort()
            let created = try await client.create(.fake(id: "daemonizing", port: port, ["--spawn-daemon"]))
            try await waitHealthy(port: port)
            let daemon = try #require(try await processReport(port: port).daemon_pid)
            // If it dies, the message says how: a signal the daemon caught names its sender, and
            // the launcher logs the exit of every process it reaps. (So it was found that the
            // launcher's second look for unrecorded processes, a second after its start, took a
            // live instance's daemon for one.)
            #expect(isAlive(daemon), "\(Self.daemonStory(daemon, launcher: launcher, instance: "daemonizing"))")
            #expect(getsid(daemon) != created.pid, "the daemon left the instance's session")
            _ = try await client.delete("daemonizing", gracePeriodSeconds: 5)
            try await waitUntil("the deleted instance's daemon to die") { !isAlive(daemon) }

            let secondPort = try freePort()
            // The instance exits by itself after 8 s: long enough for a loaded machine to look at
            // its daemon while it runs (the daemon dies only after the instance's own process has
            // exited, so that process still running after the daemon was seen proves the point).
            let crashing = try await client.create(.fake(id: "crashing", port: secondPort, ["--spawn-daemon", "--exit-after", "8"]))
            try await waitHealthy(port: secondPort)
            let orphan = try #require(try await processReport(port: secondPort).daemon_pid)
            let alive = isAlive(orphan)
            if isAlive(crashing.pid) {
                #expect(alive, "the daemon of a running instance died: \(Self.daemonStory(orphan, launcher: launcher, instance: "crashing"))")
            }
            try await waitUntil("the crashed instance's daemon to die") { !isAlive(orphan) }
            let deadline = ContinuousClock.now + .seconds(20)
            while try await client.get("crashing").status != .stopped, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await client.get("crashing").status == .stopped)
        }
    }

    /// What the launcher's log and the instance's log say of a daemon found dead.
    static func daemonStory(_ daemon: Int32, launcher: LauncherServer, instance: String) -> String {
        let log = (try? String(contentsOfFile: launcher.stateDirectory + "/logs/\(instance).log", encoding: .utf8)) ?? ""
        let launcherLines = launcher.process.stderr.split(separator: "\n").filter { $0.contains("\(daemon)") }
        return "instance log: \(log.suffix(2000)); launcher's lines naming pid \(daemon): \(launcherLines.suffix(10))"
    }

    @Test("with a cgroup per instance, a daemon that also sends its output to /dev/null dies with the instance; the cgroups go with the launcher",
          .enabled(if: InstanceCgroups.writableHierarchy(), "needs a writable cgroup hierarchy (root, or a delegated cgroup v2 subtree)"))
    func quietDaemonsDieWithTheirCgroup() async throws {
        try await withTemporaryDirectory { dir in
            let launcher = try await LauncherServer(directory: dir, cgroups: true)
            let client = launcher.client()
            let port = try freePort()
            let created = try await client.create(.fake(id: "quiet", port: port, ["--spawn-daemon", "--quiet-daemon"]))
            defer { kill(-created.pid, SIGKILL) }
            try await waitHealthy(port: port)
            let daemon = try #require(try await processReport(port: port).daemon_pid)
            defer { kill(daemon, SIGKILL) }
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(daemon)/fd/1")) == "/dev/null")
            let membership = try String(contentsOfFile: "/proc/\(daemon)/cgroup", encoding: .utf8)
            #expect(membership.contains("/fma-launcher-") && membership.contains("/quiet"), "\(membership)")
            _ = try await client.delete("quiet", gracePeriodSeconds: 5)
            try await waitUntil("the quiet daemon to die") { !isAlive(daemon) }
            launcher.process.signal(SIGTERM)
            _ = try await launcher.process.waitForExit(timeout: .seconds(20))
            // The launcher's cgroup directory (…/fma-launcher-HASH) is gone from every hierarchy.
            let line = try #require(membership.split(separator: "\n").first { $0.contains("/fma-launcher-") })
            let root = String(line[line.range(of: "/fma-launcher-")!.lowerBound...]).split(separator: "/").first.map { "/" + $0 } ?? ""
            let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8).split(separator: "\n")
                .filter { $0.contains(" - cgroup") }.map { String($0.split(separator: " ")[4]) }
            try await waitUntil("the launcher's cgroups to be removed") {
                mounts.allSatisfy { !FileManager.default.fileExists(atPath: $0 + root) }
            }
        }
    }

    @Test("the zygote keeps a spare child for the next create; --no-spare forks at each create instead")
    func zygoteSpare() async throws {
        func zygoteChildren(_ launcher: LauncherServer) -> Set<Int32> {
            guard let zygote = launcher.zygotePID,
                  let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(zygote)/task") else { return [] }
            return Set(tasks.flatMap { task in
                ((try? String(contentsOfFile: "/proc/\(zygote)/task/\(task)/children", encoding: .utf8)) ?? "")
                    .split(separator: " ").compactMap { Int32($0) }
            })
        }
        for spare in [true, false] {
            try await withLauncher(spare ? [] : ["--no-spare"]) { launcher, client in
                let port = try freePort()
                let created = try await client.create(.fake(id: "s", port: port))
                try await waitHealthy(port: port)
                if spare {
                    try await waitUntil("the next spare") { zygoteChildren(launcher).subtracting([created.pid]).count == 1 }
                } else {
                    #expect(zygoteChildren(launcher) == [created.pid])
                }
            }
        }
    }

    @Test("a delete right after a create ends well within the grace period")
    func deleteRightAfterCreate() async throws {
        try await withLauncher { _, client in
            let port = try freePort()
            _ = try await client.create(.fake(id: "brief", port: port))
            let started = ContinuousClock.now
            let deleted = try await client.delete("brief", gracePeriodSeconds: 60)
            #expect(ContinuousClock.now - started < .seconds(30), "SIGTERM works at once: the child does not inherit a handler that swallows it")
            #expect(deleted.exit.signal == SIGTERM)
        }
    }

    @Test("an instance that crashes is reported STOPPED with its exit code")
    func crash() async throws {
        try await withLauncher { _, client in
            let watch = try await client.watch()
            let created = try await client.create(.fake(id: "crashy", port: try freePort(), ["--exit-after", "0.3", "--exit-code", "7"]))
            let stopped = await collect(watch) { $0.type == .stopped }.last.flatMap { $0.type == .stopped ? $0 : nil }
            let event = try #require(stopped)
            #expect(event.instance.id == "crashy")
            #expect(event.instance.status == .stopped)
            #expect(event.instance.exit.known && event.instance.exit.exitCode == 7)
            #expect(event.revision == created.revision + 1)
            let got = try await client.get("crashy")
            #expect(got.status == .stopped && got.exit.exitCode == 7)
            let deleted = try await client.delete("crashy")
            #expect(deleted.revision == event.revision + 1)
        }
    }
}

@Suite("fma-launcher with the node's fma-gpu-inventory")
struct LauncherInventoryTests {
    @Test("GPU UUIDs are translated by fma-gpu-inventory over its Unix socket")
    func translatesThroughInventory() async throws {
        try await withTemporaryDirectory { dir in
            let socket = dir + "/gpus.sock"
            let inventory = try ChildProcess(binDirectory + "/fma-gpu-inventory",
                                             ["node", "--mock", "4", "--node-name", "node-b", "--listen", "unix:\(socket)", "--ready-file", dir + "/gpus.ready"],
                                             directory: dir)
            defer { inventory.stop() }
            try await waitUntil("fma-gpu-inventory to listen") { FileManager.default.fileExists(atPath: dir + "/gpus.ready") }
            let launcherDir = dir + "/l"
            try FileManager.default.createDirectory(atPath: launcherDir, withIntermediateDirectories: true)
            let launcher = try await LauncherServer(directory: launcherDir, gpuArguments: ["--gpu-inventory", "unix:\(socket)"])
            defer { launcher.stop() }
            let client = launcher.client()
            let uuids = MockGPUs.uuids(node: "node-b", count: 4)
            let port = try freePort()
            let created = try await client.create(.fake(id: "gpu", port: port, gpus: [uuids[3], uuids[1]]))
            defer { kill(-created.pid, SIGKILL) }
            #expect(created.envVars["CUDA_VISIBLE_DEVICES"] == "3,1")
            let unknown = await #expect(throws: RPCError.self) {
                _ = try await client.create(.fake(id: "nogpu", port: try freePort(), gpus: [MockGPUs.uuid(node: "other-node", index: 0)]))
            }
            #expect(unknown?.code == .invalidArgument)
            #expect(unknown?.message.contains(uuids[0]) == true, "the inventory lists the known UUIDs")
        }
    }
}
