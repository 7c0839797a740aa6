@testable import FMALauncher
import FMATestSupport
import Foundation
import NIOConcurrencyHelpers
import Testing

@Suite("log following wakes on writes (inotify), not on a poll")
struct LogFollowTests {
    @Test("with an hour between polls, appended bytes still arrive, in order, and deletion ends the follow")
    func wakesOnWrite() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/instance.log"
            try Data("first\n".utf8).write(to: URL(fileURLWithPath: path))
            let reader = LogReader(followInterval: .seconds(3600))
            let received = NIOLockedValueBox("")
            let alive = NIOLockedValueBox(true)
            let ended = NIOLockedValueBox(false)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await reader.follow(path: path, from: 0, while: { alive.withLockedValue { $0 } }) { _, data in
                        received.withLockedValue { $0 += String(decoding: data, as: UTF8.self) }
                    }
                    ended.withLockedValue { $0 = true }
                }
                try await waitUntil(timeout: .seconds(20), "the first line") { received.withLockedValue { $0 } == "first\n" }
                for line in ["second\n", "third\n"] {
                    let handle = try #require(FileHandle(forWritingAtPath: path))
                    try handle.seekToEnd()
                    try handle.write(contentsOf: Data(line.utf8))
                    try handle.close()
                    try await waitUntil(timeout: .seconds(20), "\(line) to arrive without a poll") { received.withLockedValue { $0.hasSuffix(line) } }
                }
                #expect(received.withLockedValue { $0 } == "first\nsecond\nthird\n")
                alive.withLockedValue { $0 = false }
                try FileManager.default.removeItem(atPath: path)
                try await waitUntil(timeout: .seconds(20), "the follow to end once its file is gone") { ended.withLockedValue { $0 } }
                group.cancelAll()
            }
        }
    }
}
