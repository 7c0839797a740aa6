import FMAGPUInventory
import FMARPC
import Synchronization
import Testing

/// The relayed log: random chunks, as FMA's TestLogChunking sends them.
@Suite("Requester log relay")
struct RequesterLogTests {
    /// Collects what the relay writes.
    final class Collected: Sendable {
        let bytes = Mutex<[UInt8]>([])
        var value: [UInt8] { bytes.withLock { $0 } }
    }

    @Test("FMA's messages: appended, nothing new, negative, beyond the end")
    func messages() throws {
        let collected = Collected()
        let log = RequesterLog { chunk in collected.bytes.withLock { $0 += chunk } }
        #expect(try log.append(start: 0, Array("hello ".utf8)).message == "Accepted startPos=0, chunkLength=6; addedContentLength=6, new contentLength=6")
        #expect(try log.append(start: 2, Array("llo".utf8)).message == "Accepted startPos=2, chunkLength=3, but that has nothing new; still contentLength=6")
        let appended = try log.append(start: 3, Array("lo world".utf8))
        #expect(appended.stored == 11 && appended.added == 5)
        #expect(appended.message == "Accepted startPos=3, chunkLength=8; addedContentLength=5, new contentLength=11")
        let negative = #expect(throws: RPCError.self) { try log.append(start: -4, [1]) }
        #expect(negative?.code == .invalidArgument)
        #expect(negative?.message == "Starting position -4 is unacceptable because it is negative")
        #expect(negative?.details["field"] == "start")
        let gap = #expect(throws: RPCError.self) { try log.append(start: 12, [1]) }
        #expect(gap?.message == "Starting position 12 is beyond the current contentLength=11")
        #expect(String(decoding: collected.value, as: UTF8.self) == "hello world")
        #expect(try log.append(start: 11, []).added == 0, "an empty chunk at the end is accepted")
    }

    @Test("random overlapping, duplicate, gapped and negative chunks: errors exactly when required, the log is always the prefix")
    func randomChunks() throws {
        var generator = SystemRandomNumberGenerator()
        let truth = (0..<600).map { _ in UInt8.random(in: 1...127, using: &generator) }
        let collected = Collected()
        let log = RequesterLog { chunk in collected.bytes.withLock { $0 += chunk } }
        var rounds = 0
        while collected.value.count < truth.count - truth.count / 60 {
            rounds += 1
            #expect(rounds < 100_000)
            let (start, chunk) = LogChunks.next(stored: collected.value.count, truth: truth, using: &generator)
            let expectBad = start < 0 || start > collected.value.count
            do {
                let appended = try log.append(start: Int64(start), chunk)
                #expect(!expectBad, "start \(start) with \(collected.value.count) stored was accepted")
                #expect(appended.stored == Int64(collected.value.count))
            } catch {
                #expect(expectBad, "start \(start) with \(collected.value.count) stored was refused: \(error.message)")
                #expect(error.code == .invalidArgument)
            }
            #expect(collected.value == Array(truth.prefix(collected.value.count)))
            #expect(log.stored == Int64(collected.value.count))
        }
    }

    @Test("a failing sink is INTERNAL and stores nothing")
    func failingSink() {
        struct Full: Error {}
        let log = RequesterLog { _ in throw Full() }
        let error = #expect(throws: RPCError.self) { try log.append(start: 0, [1, 2]) }
        #expect(error?.code == .internal)
        #expect(error?.message.hasPrefix("Failed to write log chunk:") == true)
        #expect(log.stored == 0)
    }
}

/// Chunks like FMA's TestLogChunking picks them: mostly overlapping the stored end, some empty,
/// some past it (a gap), one in ten at a negative start.
enum LogChunks {
    static func next(stored: Int, truth: [UInt8], using generator: inout some RandomNumberGenerator) -> (Int, [UInt8]) {
        var start = stored > 0 ? Int.random(in: 0..<((stored + truth.count) / 2), using: &generator) : 0
        var length = Int.random(in: 100..<200, using: &generator)
        if start > 400 { length = Int.random(in: 0..<(truth.count - start), using: &generator) }
        if Int.random(in: 0..<7, using: &generator) == 1 { length = 0 }
        let chunk = Array(truth[start..<min(truth.count, start + length)])
        if Int.random(in: 0..<10, using: &generator) == 1 { start = -(1 + Int.random(in: 0..<truth.count, using: &generator)) }
        return (start, chunk)
    }
}
