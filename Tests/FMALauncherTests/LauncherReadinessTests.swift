import FMAAPI
import FMARPC
import FMATestSupport
import FMAWire
import Foundation
import Testing

@Suite("fma-launcher: readiness of instances (Instance.ready, READY and NOT_READY)", .serialized)
struct LauncherReadinessTests {
    static let probing = ["--ready-probe-interval", "0.2", "--ready-probe-timeout", "0.3"]

    @Test("a ready forked instance reports what it imported after the fork (its preload gap); the report goes with the instance")
    func preloadGap() async throws {
        try await withLauncher(Self.probing) { launcher, client in
            let port = try freePort()
            let watch = try await client.watch()
            // The fake imports these at start; the launcher's zygote preloaded neither.
            _ = try await client.create(.fake(id: "gappy", port: port, ["--import", "xml.dom.minidom,wave"]))
            let ready = try #require(await collect(watch) { $0.type == .ready }.last)
            #expect(ready.instance.hasPreloadGap)
            let gap = try await client.get("gappy").preloadGap
            #expect(gap.modules >= 2, "\(gap)")
            #expect(gap.seconds > 0)
            let slowest = gap.slowest.map(\.module)
            #expect(slowest.contains("xml.dom.minidom") && slowest.contains("wave"), "\(slowest)")
            #expect(gap.slowest.map(\.seconds) == gap.slowest.map(\.seconds).sorted(by: >))
            let report = launcher.stateDirectory + "/logs/gappy.imports.json"
            #expect(FileManager.default.fileExists(atPath: report))
            _ = try await client.delete("gappy", gracePeriodSeconds: 5)
            #expect(!FileManager.default.fileExists(atPath: report))
        }
    }

    @Test("an instance turns ready when its server answers /health, not ready when it stops answering, ready again after")
    func readyCycle() async throws {
        try await withLauncher(Self.probing) { _, client in
            let port = try freePort()
            // Readiness events are not replayed: watch first, then create.
            let watch = try await client.watch()
            // /health answers 503 for the first 0.5 s: ready must wait for the 200.
            let created = try await client.create(.fake(id: "probed", port: port, ["--startup-delay", "0.5"]))
            #expect(!created.ready)
            let untilReady = await collect(watch) { $0.type == .ready }
            let ready = try #require(untilReady.last)
            #expect(ready.type == .ready && ready.instance.id == "probed" && ready.instance.ready)
            #expect(ready.instance.sleepState == .awake)
            // Observed, not a change: it carries the instance's revision, and the launcher's stays.
            #expect(ready.revision == created.revision && ready.instance.revision == created.revision)
            #expect(try await client.list().revision == created.revision)
            // The server the probe found answers the test too (a loaded machine may take more than one try).
            try await waitHealthy(port: port, timeout: .seconds(10))
            #expect(try await client.get("probed").ready)
            #expect(try await client.list().instances.first { $0.id == "probed" }?.ready == true)

            // A server that stops answering (stopped, not dead) turns not ready; then ready again.
            let pid = ready.instance.pid
            let resumed = try await client.watch()
            #expect(kill(pid, SIGSTOP) == 0)
            defer { kill(pid, SIGCONT) }
            let untilNotReady = await collect(resumed) { $0.type == .notReady }
            let notReady = try #require(untilNotReady.last)
            #expect(notReady.type == .notReady && !notReady.instance.ready && notReady.instance.status == .running)
            #expect(!(try await client.get("probed").ready))
            let againWatch = try await client.watch()
            #expect(kill(pid, SIGCONT) == 0)
            // The launcher may take the watch's snapshot after the probe that follows SIGCONT
            // (the call returns before the server has it): then the snapshot says ready, and
            // no READY follows. Either way the watcher learns it is ready again.
            let again = await collect(againWatch) { $0.instance.id == "probed" && $0.instance.ready }
            #expect(again.last?.instance.ready == true && (again.last?.type == .ready || again.count == 1),
                    "\(again.map { "\($0.type) \($0.instance.status) ready=\($0.instance.ready)" })")

            // Sleeping leaves it ready (vLLM answers /health asleep); deleted, it is not ready.
            let asleep = try await client.sleep("probed", level: 1)
            #expect(asleep.ready && asleep.sleepState == .sleeping)
            let deleted = try await client.delete("probed")
            #expect(!deleted.ready)
        }
    }

    @Test("an instance that exits is STOPPED and not ready; one whose server never answers stays not ready")
    func neverReady() async throws {
        try await withLauncher(Self.probing) { _, client in
            let port = try freePort()
            let watch = try await client.watch()
            // Answers 503 for an hour: probed, never ready.
            _ = try await client.create(.fake(id: "slow", port: port, ["--startup-delay", "3600"]))
            let crashing = try await client.create(.fake(id: "crashing", port: try freePort(), ["--exit-after", "0.2", "--startup-delay", "3600"]))
            let events = await collect(watch, timeout: .seconds(20)) { $0.type == .stopped && $0.instance.id == "crashing" }
            #expect(events.last?.type == .stopped && events.last?.instance.ready == false)
            #expect(!events.contains { $0.type == .ready })
            // The slow one has answered 503 several times by now (probed every 10 ms doubling to 250 ms).
            #expect(await httpGet(port: port, path: "/health")?.status == 503)
            #expect(!(try await client.get("slow").ready))
            _ = crashing
        }
    }

    @Test("a restarted launcher probes the instances it adopts: ready again, announced by READY")
    func adoptedReady() async throws {
        try await withLauncher(Self.probing) { launcher, client in
            let port = try freePort()
            let watch = try await client.watch()
            _ = try await client.create(.fake(id: "kept", port: port))
            _ = await collect(watch) { $0.type == .ready }
            try await launcher.killAndRestart()
            let fresh = launcher.client()
            // The snapshot carries `ready` as it is now; a READY follows if the probe had not yet found it.
            let events = await collect(try await fresh.watch()) { $0.instance.id == "kept" && $0.instance.ready }
            let kept = try #require(events.last)
            #expect(kept.instance.adopted && kept.instance.ready)
            #expect(try await fresh.list().instances.first { $0.id == "kept" }?.adopted == true)
            #expect(try await fresh.get("kept").ready)
        }
    }

    @Test("fmactl launcher create --wait returns once the launcher reports the instance ready; fails when it stops first")
    func fmactlWait() async throws {
        try await withLauncher(Self.probing) { launcher, client in
            let port = try freePort()
            let fmactl = binDirectory + "/fmactl"
            let address = "unix:\(launcher.directory)/launcher.sock"
            let ok = try await runCommand(fmactl, ["launcher", "create", address, "--id", "waited", "--wait", "--wait-timeout", "30", "--",
                                                   "--host", "127.0.0.1", "--port", "\(port)", "--model", "m", "--startup-delay", "0.3"],
                                          directory: launcher.directory)
            #expect(ok.termination.exitCode == 0, "\(ok.stderr)")
            #expect(ok.stderr.contains("ready after"))
            // The server the probe found answers the test too (a loaded machine may take more than one try).
            try await waitHealthy(port: port, timeout: .seconds(10))
            #expect(try await client.get("waited").ready)

            let failed = try await runCommand(fmactl, ["launcher", "create", address, "--id", "dies", "--wait", "--wait-timeout", "30", "--",
                                                       "--host", "127.0.0.1", "--port", "\(try freePort())", "--model", "m", "--exit-after", "0.1",
                                                       "--startup-delay", "3600"],
                                              directory: launcher.directory)
            #expect(failed.termination.exitCode == 1)
            #expect(failed.stderr.contains("dies stopped"), "\(failed.stderr)")
        }
    }
}
