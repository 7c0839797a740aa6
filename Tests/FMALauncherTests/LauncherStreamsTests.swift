import FMAAPI
import FMARPC
import FMATestSupport
import FMAWire
import Foundation
import Testing

@Suite("fma-launcher: logs, events, sleep and wake", .serialized)
struct LauncherStreamsTests {
    @Test("log ranges: whole, explicit end, open end, end clamped, at and beyond the end an empty chunk")
    func logRanges() async throws {
        try await withLauncher { _, client in
            let port = try freePort()
            _ = try await client.create(.fake(id: "talker", port: port))
            try await waitHealthy(port: port)
            let whole = try await client.log("talker")
            let text = String(decoding: whole.data, as: UTF8.self)
            #expect(text.contains("fma_fakevllm: serving test/model"))
            #expect(whole.totalSize == UInt64(whole.data.count))
            let part = try await client.log("talker", start: 2, end: 6)
            #expect(Array(part.data) == Array(whole.data[2...6]))
            let tail = try await client.log("talker", start: 5)
            #expect(Array(tail.data) == Array(whole.data[5...]))
            // At or past the end: an empty chunk that says how long the log is (a poller asks again).
            for start in [whole.totalSize, whole.totalSize + 10] {
                let beyond = try await client.log("talker", start: start)
                #expect(beyond.data.isEmpty && beyond.start == start && beyond.totalSize >= whole.totalSize)
            }
            // An end past the file is clamped to it.
            let clamped = try await client.log("talker", start: 1, end: whole.totalSize + 1000)
            #expect(Array(clamped.data.prefix(whole.data.count - 1)) == Array(whole.data[1...]))
            let backwards = await #expect(throws: RPCError.self) { _ = try await client.log("talker", start: 5, end: 2) }
            #expect(backwards?.code == .invalidArgument)
        }
    }

    @Test("following a log delivers bytes written later, and ends when the instance is deleted")
    func followLog() async throws {
        try await withLauncher { _, client in
            let port = try freePort()
            _ = try await client.create(.fake(id: "followed", port: port))
            try await waitHealthy(port: port)
            let stream = try await client.followLog("followed")
            var iterator = stream.makeAsyncIterator()
            var seen = ""
            while !seen.contains("serving") { seen += String(decoding: try #require(try await iterator.next()).data, as: UTF8.self) }
            // A request makes the fake server log a line.
            _ = await httpGet(port: port, path: "/v1/models")
            while !seen.contains("/v1/models") { seen += String(decoding: try #require(try await iterator.next()).data, as: UTF8.self) }
            _ = try await client.delete("followed")
            while let chunk = try await iterator.next() { seen += String(decoding: chunk.data, as: UTF8.self) }
            #expect(seen.contains("GET /v1/models"))
        }
    }

    @Test("watch: CREATED for what exists, live events, resume from a revision, OUT_OF_RANGE when too old")
    func watchResume() async throws {
        try await withLauncher(["--event-history", "4"]) { _, client in
            let first = try await client.create(.fake(id: "w1", port: try freePort()))
            let initial = try await client.watch()
            var iterator = initial.makeAsyncIterator()
            let synthetic = try #require(try await iterator.next())
            #expect(synthetic.type == .created && synthetic.instance.id == "w1" && synthetic.revision == first.revision)
            let second = try await client.create(.fake(id: "w2", port: try freePort()))
            let live = try #require(try await iterator.next())
            #expect(live.type == .created && live.instance.id == "w2" && live.revision == second.revision)

            let resumed = try await client.watch(since: first.revision)
            var resumedIterator = resumed.makeAsyncIterator()
            let replayed = try #require(try await resumedIterator.next())
            #expect(replayed.revision == second.revision)

            _ = try await client.delete("w1")
            let deleted = try #require(try await iterator.next())
            #expect(deleted.type == .deleted && deleted.instance.id == "w1" && deleted.revision == second.revision + 1)
        }
    }

    @Test("a since older than the retained events is OUT_OF_RANGE")
    func watchTooOld() async throws {
        try await withLauncher(["--event-history", "3"]) { _, client in
            var last: Fma_V1_Instance?
            for index in 0..<3 {
                last = try await client.create(.fake(id: "old\(index)", port: try freePort()))
                _ = try await client.delete("old\(index)")
            }
            let revision = try #require(last).revision
            let error = await #expect(throws: RPCError.self) {
                for try await _ in try await client.watch(since: 0) {}
            }
            #expect(error?.code == .outOfRange)
            // Recent enough resumes fine: the next event after the last create is its delete.
            let recent = try await client.watch(since: revision)
            var iterator = recent.makeAsyncIterator()
            let next = try #require(try await iterator.next())
            #expect(next.type == .deleted)
        }
    }

    @Test("sleep → is_sleeping true → wake, reflected in state and events")
    func sleepWake() async throws {
        try await withLauncher { _, client in
            let port = try freePort()
            let created = try await client.create(.fake(id: "sleepy", port: port))
            #expect(created.sleepChangedUnixMs == 0, "never slept or woken")
            try await waitHealthy(port: port)
            let beforeSleep = Int64(Date().timeIntervalSince1970 * 1000)
            let asleep = try await client.sleep("sleepy", level: 1)
            #expect(asleep.sleepState == .sleeping && asleep.sleepLevel == 1)
            #expect(asleep.revision == created.revision + 1)
            // When it went to sleep: what the controller reclaims the least recently used by.
            #expect(asleep.sleepChangedUnixMs >= beforeSleep && asleep.sleepChangedUnixMs >= created.createdUnixMs)
            #expect(asleep.sleepChangedUnixMs <= Int64(Date().timeIntervalSince1970 * 1000))
            #expect(try await client.isSleeping("sleepy"))
            let fromServer = await httpGet(port: port, path: "/is_sleeping")
            #expect(fromServer?.body.contains("true") == true)
            let awake = try await client.wake("sleepy")
            #expect(awake.sleepState == .awake)
            #expect(awake.sleepChangedUnixMs >= asleep.sleepChangedUnixMs)
            #expect(!(try await client.isSleeping("sleepy")))
            let badLevel = await #expect(throws: RPCError.self) { _ = try await client.sleep("sleepy", level: 3) }
            #expect(badLevel?.code == .invalidArgument)

            // The events, as launcher.proto documents them: asleep again at the same level and
            // awake again change nothing; a new level is a SLEEPING event; a delete is one
            // DELETED event, no STOPPED before it.
            let watch = try await client.watch(since: awake.revision)
            _ = try await client.sleep("sleepy", level: 1)
            _ = try await client.sleep("sleepy", level: 1)
            _ = try await client.sleep("sleepy", level: 2)
            _ = try await client.wake("sleepy")
            _ = try await client.wake("sleepy")
            _ = try await client.delete("sleepy")
            let seen = await collect(watch) { $0.type == .deleted }
            #expect(seen.map(\.type) == [.sleeping, .sleeping, .awake, .deleted])
            #expect(seen.map(\.instance.sleepLevel).prefix(2) == [1, 2])
            // A new sleep level is no change of use: the time of the sleep stays.
            #expect(seen.count == 4 && seen[1].instance.sleepChangedUnixMs == seen[0].instance.sleepChangedUnixMs)
            #expect(seen.count == 4 && seen[2].instance.sleepChangedUnixMs >= seen[1].instance.sleepChangedUnixMs)
        }
    }

    @Test("an admin call to a server that does not answer fails in time, naming the instance")
    func sleepUnreachable() async throws {
        try await withLauncher(["--admin-timeout", "1"]) { _, client in
            let port = try freePort()
            _ = try await client.create(.fake(id: "mute", port: port))
            try await waitHealthy(port: port)
            let report = try await processReport(port: port)
            kill(report.pid, SIGSTOP)
            defer { kill(report.pid, SIGCONT) }
            // A stopped process accepts the connection (the kernel does) but never answers.
            let error = await #expect(throws: RPCError.self) { _ = try await client.isSleeping("mute") }
            #expect(error?.code == .deadlineExceeded)
            #expect(error?.message.contains("instance 'mute'") == true)
        }
    }
}
