import FMAAPI
import FMARPC
import FMATestSupport
import FMAWire
import Foundation
import Testing

/// Every numeric field of every launcher RPC, sent the values that trap a careless conversion:
/// each call answers (a clear INVALID_ARGUMENT where the value cannot be right) and the
/// launcher keeps serving.
@Suite("fma-launcher: extreme numbers from the wire")
struct LauncherExtremeValuesTests {
    static let badSeconds: [Double] = [.infinity, -.infinity, .nan, 1e308, -1, .greatestFiniteMagnitude, 1e10]

    @Test("a grace period that is not a sane number of seconds is INVALID_ARGUMENT naming the field")
    func gracePeriods() async throws {
        try await withLauncher { launcher, client in
            let port = try freePort()
            _ = try await client.create(.fake(id: "keep", port: port))
            for seconds in Self.badSeconds {
                let deleted = await #expect(throws: RPCError.self) { _ = try await client.delete("keep", gracePeriodSeconds: seconds) }
                #expect(deleted?.code == .invalidArgument, "DeleteInstance grace \(seconds)")
                #expect(deleted?.message.contains("grace_period_seconds") == true, "DeleteInstance grace \(seconds): \(deleted?.message ?? "")")
                let all = await #expect(throws: RPCError.self) { _ = try await client.deleteAll(gracePeriodSeconds: seconds) }
                #expect(all?.code == .invalidArgument, "DeleteAllInstances grace \(seconds)")
            }
            // Nothing was deleted by the refused calls, and the launcher still serves.
            #expect(try await client.list().instances.map(\.id) == ["keep"])
            let gone = try await client.delete("keep", gracePeriodSeconds: 0.5)
            #expect(gone.id == "keep")
            #expect(isAlive(launcher.process.pid))
        }
    }

    @Test("the largest integers in sleep levels, log ranges and watch revisions answer, never crash")
    func largestIntegers() async throws {
        try await withLauncher { launcher, client in
            let port = try freePort()
            _ = try await client.create(.fake(id: "x", port: port))
            let sleep = await #expect(throws: RPCError.self) { _ = try await client.sleep("x", level: .max) }
            #expect(sleep?.code == .invalidArgument)
            let log = try await client.log("x", start: .max, end: .max)
            #expect(log.data.isEmpty && log.start == .max)
            let whole = try await client.log("x", start: 0, end: .max - 1)
            #expect(UInt64(whole.data.count) <= whole.totalSize)
            let openEnded = try await client.log("x", start: .max - 1)
            #expect(openEnded.data.isEmpty)
            let watch = await #expect(throws: RPCError.self) {
                let stream = try await client.watch(since: .max)
                for try await _ in stream {}
            }
            #expect(watch?.code == .outOfRange || watch?.code == .invalidArgument, "watch since max: \(String(describing: watch))")
            // Still serving.
            #expect(try await client.get("x").id == "x")
            #expect(isAlive(launcher.process.pid))
        }
    }
}

@Suite("fma-launcher: oversized and malformed creates")
struct LauncherCreateLimitsTests {
    @Test("a create past the size limit, with a NUL or an empty key is INVALID_ARGUMENT with a short message; nothing is stored")
    func refusedCreates() async throws {
        try await withLauncher { launcher, client in
            let huge = String(repeating: "a", count: 100_000)
            var requests: [(String, Fma_V1_CreateInstanceRequest)] = []
            var big = Fma_V1_CreateInstanceRequest.fake(id: "big", port: try freePort())
            big.annotations = ["note": huge]
            requests.append(("annotations", big))
            requests.append(("id", .fake(id: huge, port: try freePort())))
            requests.append(("env_vars", .fake(id: "nul", port: try freePort(), env: ["A": "x\u{0}y"])))
            var emptyKey = Fma_V1_CreateInstanceRequest.fake(id: "empty-key", port: try freePort())
            emptyKey.annotations = ["": "v"]
            requests.append(("annotations", emptyKey))
            for (field, request) in requests {
                let error = await #expect(throws: RPCError.self) { _ = try await client.create(request) }
                #expect(error?.code == .invalidArgument, "\(field)")
                #expect(error?.details["field"] == field || field == "annotations" && error?.details["field"] == "options", "\(field): \(error?.details ?? [:])")
                #expect((error?.message.utf8.count ?? 0) < 400, "\(field): the message echoes the input: \(error?.message.prefix(200) ?? "")")
            }
            let notFound = await #expect(throws: RPCError.self) { _ = try await client.get(huge) }
            #expect(notFound?.code == .notFound)
            #expect((notFound?.message.utf8.count ?? 0) < 400)
            #expect(try await client.list().instances.isEmpty)
            #expect(isAlive(launcher.process.pid))
        }
    }

    @Test("two instances asking for --port 0 (any free port) do not conflict")
    func portZero() async throws {
        try await withLauncher { _, client in
            _ = try await client.create(.with { $0.id = "a"; $0.options = ["--host", "127.0.0.1", "--port", "0"] })
            _ = try await client.create(.with { $0.id = "b"; $0.options = ["--host", "127.0.0.1", "--port", "0"] })
            #expect(try await client.list().instances.map(\.id).sorted() == ["a", "b"])
        }
    }
}

@Suite("fma-launcher: nothing acknowledged that was not journaled")
struct LauncherJournalFailureTests {
    @Test("with the journal unwritable, changes fail with UNAVAILABLE, Health is NOT_SERVING, and a restart shows only what was stored")
    func unwritableJournal() async throws {
        try await withLauncher { launcher, client in
            let health = HealthClient(RPCClient(address: launcher.address))
            _ = try await client.create(.fake(id: "kept", port: try freePort()))
            let blocker = launcher.stateDirectory + "/instances.json.tmp"
            try FileManager.default.createDirectory(atPath: blocker, withIntermediateDirectories: false)

            let refused = await #expect(throws: RPCError.self) { _ = try await client.create(.fake(id: "unrecorded", port: try freePort())) }
            #expect(refused?.code == .unavailable)
            #expect(refused?.message.contains("journal") == true)
            let sick = try await health.check()
            #expect(sick.status == .notServing)
            #expect(sick.message.contains("journal"), "\(sick.message)")
            let notDeleted = await #expect(throws: RPCError.self) { _ = try await client.delete("kept", gracePeriodSeconds: 1) }
            #expect(notDeleted?.code == .unavailable)
            #expect(try await client.list().instances.map(\.id) == ["kept"], "the refused create left nothing; the refused delete kept its record")

            try FileManager.default.removeItem(atPath: blocker)
            _ = try await client.delete("kept")
            #expect(try await health.check().status == .serving)
            #expect(try await client.list().instances.isEmpty)
            try await launcher.killAndRestart()
            #expect(try await launcher.client().list().instances.isEmpty, "a restart shows exactly what was acknowledged")
        }
    }
}
