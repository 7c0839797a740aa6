import FMAHTTPServer
import FMATestSupport
import Foundation
import NIOCore
import Synchronization
import Testing

/// Streaming responses: incremental delivery, backpressure, a client that leaves, shutdown.
@Suite("HTTP streaming responses")
struct HTTPStreamingTests {
    /// A count shared between a producer and the test.
    private final class Counter: Sendable {
        private let value = Mutex(0)
        func add(_ amount: Int) { value.withLock { $0 += amount } }
        var current: Int { value.withLock { $0 } }
    }

    @Test("each write reaches the client as a chunk before the next one is produced")
    func incremental() async throws {
        let (gate, opener) = AsyncStream<Void>.makeStream()
        var router = HTTPRouter()
        router.add(.GET, "/stream") { _ in
            .stream(contentType: "application/x-ndjson") { writer in
                var index = 0
                for await _ in gate {
                    try await writer.writeJSONLine(["line": index])
                    index += 1
                    if index == 3 { return }
                }
            }
        }
        try await withHTTPServer(router) { server in
            let socket = try RawFrameSocket(server.address)
            var received: [UInt8] = []
            try socket.send(bytes: Array("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
            let head = try await socket.readText(into: &received) { $0.contains("\r\n\r\n") }
            #expect(head.lowercased().contains("transfer-encoding: chunked"))
            #expect(head.contains("Content-Type: application/x-ndjson"))
            for index in 0..<3 {
                #expect(!String(decoding: received, as: UTF8.self).contains(#"{"line":\#(index)}"#), "not produced yet")
                opener.yield()
                _ = try await socket.readText(into: &received) { $0.contains(#"{"line":\#(index)}"#) }
            }
            let all = try await socket.readText(into: &received) { $0.hasSuffix("0\r\n\r\n") }
            #expect(all.hasSuffix(#"{"line":2}"# + "\n\r\n0\r\n\r\n"), "the body ends with the last chunk")
        }
    }

    @Test("a client that stops reading stops the producer: writes wait, memory stays bounded")
    func backpressure() async throws {
        let written = Counter()
        var router = HTTPRouter()
        router.add(.GET, "/flood") { _ in
            .stream(contentType: "application/octet-stream") { writer in
                let chunk = ByteBuffer(repeating: 0x2e, count: 65536)
                while true {
                    try await writer.write(chunk)
                    written.add(chunk.readableBytes)
                }
            }
        }
        try await withHTTPServer(router) { server in
            let socket = try RawFrameSocket(server.address)
            socket.setReceiveBuffer(bytes: 4096)
            try socket.send(bytes: Array("GET /flood HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
            try await waitUntil("the producer to start") { written.current > 0 }
            // Then until it is stuck: no progress over 300 ms.
            var last = 0
            let deadline = ContinuousClock.now + .seconds(20)
            while written.current != last {
                #expect(ContinuousClock.now < deadline, "the producer never stopped")
                if ContinuousClock.now >= deadline { return }
                last = written.current
                try await Task.sleep(for: .milliseconds(300))
            }
            // A write returns once the socket took it: what is written is what the kernel
            // buffers (a send buffer of at most 4 MiB here), not what the producer could make.
            #expect(last < 8 << 20, "the producer wrote \(last) bytes to a client that reads nothing")
        }
    }

    @Test("when the client disconnects mid-stream, writer.write throws")
    func clientLeaves() async throws {
        let (outcomes, report) = AsyncStream<String>.makeStream()
        var router = HTTPRouter()
        router.add(.GET, "/forever") { _ in
            .stream(contentType: "text/plain") { writer in
                var count = 0
                while true {
                    do {
                        try await writer.write("tick \(count)\n")
                    } catch {
                        report.yield("write threw after \(count) writes")
                        throw error
                    }
                    count += 1
                    await Task.yield()
                }
            }
        }
        try await withHTTPServer(router) { server in
            let socket = try RawFrameSocket(server.address)
            var received: [UInt8] = []
            try socket.send(bytes: Array("GET /forever HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
            _ = try await socket.readText(into: &received, timeout: .seconds(60)) { $0.contains("tick 0\n") }
            shutdown(socket.fd, Int32(SHUT_RDWR))
            let outcome = try await firstValue(of: outcomes, within: .seconds(10))
            #expect(outcome?.hasPrefix("write threw after") == true)
        }
    }

    @Test("a client that leaves while a handler runs cancels the handler")
    func handlerCancelled() async throws {
        let (outcomes, report) = AsyncStream<String>.makeStream()
        let (started, announce) = AsyncStream<Void>.makeStream()
        var router = HTTPRouter()
        router.add(.GET, "/slow") { _ in
            announce.yield()
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                report.yield("cancelled")
                throw error
            }
            return .text("late")
        }
        try await withHTTPServer(router) { server in
            let socket = try RawFrameSocket(server.address)
            try socket.send(bytes: Array("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
            _ = try await firstValue(of: started, within: .seconds(10))
            shutdown(socket.fd, Int32(SHUT_RDWR))
            #expect(try await firstValue(of: outcomes, within: .seconds(10)) == "cancelled")
        }
    }

    @Test("graceful shutdown closes idle connections, ends streams cleanly, stops listening")
    func shutdownEndsStreams() async throws {
        var router = HTTPRouter()
        router.add(.GET, "/ping") { _ in .text("pong\n") }
        router.add(.GET, "/watch") { _ in
            .stream(contentType: "application/x-ndjson") { writer in
                try await writer.write("{\"type\":\"initial\"}\n")
                // Waits for events that never come; shutdown cancels the wait.
                let (never, _) = AsyncStream<Void>.makeStream()
                for await _ in never {}
            }
        }
        try await withHTTPServer(router) { server in
            let idle = try RawFrameSocket(server.address)
            var idleReceived: [UInt8] = []
            try idle.send(bytes: Array("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
            _ = try await idle.readText(into: &idleReceived) { $0.hasSuffix("pong\n") }

            let watcher = try RawFrameSocket(server.address)
            var watched: [UInt8] = []
            try watcher.send(bytes: Array("GET /watch HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
            _ = try await watcher.readText(into: &watched) { $0.contains("initial") }

            await server.shutdown()
            try await idle.waitForClose()
            let end = try await watcher.readText(into: &watched) { $0.hasSuffix("0\r\n\r\n") }
            #expect(end.hasSuffix("0\r\n\r\n"), "the stream ends with its last chunk")
            try await watcher.waitForClose()
            try await waitUntil("the listener to close") { (try? RawFrameSocket(server.address)) == nil }
        }
    }
}

/// The first element of `stream`, waiting at most `timeout`.
func firstValue<T: Sendable>(of stream: AsyncStream<T>, within timeout: Duration) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            var iterator = stream.makeAsyncIterator()
            return await iterator.next()
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TestSupportError("nothing arrived within \(timeout)")
        }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
}
