import FMAHTTPClient
import FMATestSupport
import Foundation
import Testing

@Suite("HTTPClient streaming responses")
struct HTTPClientStreamingTests {
    @Test("NDJSON lines delivered over time are read chunk by chunk as they arrive")
    func ndjson() async throws {
        try await withTestHTTPServer { server, _ in
            try await withHTTPClient { client in
                let response = try await client.stream(HTTPClientRequest(.get, server.url("/ndjson?count=5&interval_ms=150")))
                #expect(response.status == 200)
                #expect(response.headers.first("transfer-encoding") == "chunked")
                var buffer: [UInt8] = []
                var lines: [(index: Int, at: ContinuousClock.Instant)] = []  // arrival kept for diagnostics
                for try await chunk in response.body {
                    buffer += chunk
                    while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = Array(buffer[..<newline])
                        buffer.removeSubrange(...newline)
                        lines.append((try #require(json(line)["index"] as? Int), .now))
                    }
                }
                #expect(buffer.isEmpty)
                #expect(lines.map(\.index) == [0, 1, 2, 3, 4])

                // Read as they come, not at the end: a stream that never ends still yields lines.
                let endless = try await client.stream(HTTPClientRequest(.get, server.url("/forever?interval_ms=20")))
                var received = 0
                for try await chunk in endless.body {
                    received += chunk.filter { $0 == UInt8(ascii: "\n") }.count
                    if received >= 3 { break }
                }
                #expect(received >= 3)
            }
        }
    }

    @Test("leaving the loop, cancelling the task, cancel() and dropping the response each end the transfer")
    func cancellation() async throws {
        try await withTestHTTPServer { server, _ in
            try await withHTTPClient { client in
                var expectedDisconnects = 0
                func waitForDisconnect() async throws {
                    expectedDisconnects += 1
                    let expected = expectedDisconnects
                    let deadline = ContinuousClock.now + .seconds(30)
                    while ContinuousClock.now < deadline {
                        let stats = try json(try await client.send(HTTPClientRequest(.get, server.url("/stats"))).body)
                        if let seen = stats["disconnects"] as? Int, seen >= expected { return }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    Issue.record("the server did not see disconnect \(expected)")
                }

                // Leaving the loop.
                var chunks = 0
                for try await _ in try await client.stream(HTTPClientRequest(.get, server.url("/forever?interval_ms=10"))).body {
                    chunks += 1
                    if chunks == 3 { break }
                }
                #expect(chunks == 3)
                try await waitForDisconnect()

                // Cancelling the reading task.
                let reader = Task {
                    var count = 0
                    for try await _ in try await client.stream(HTTPClientRequest(.get, server.url("/forever?interval_ms=10"))).body { count += 1 }
                    return count
                }
                try await Task.sleep(for: .milliseconds(200))
                reader.cancel()
                switch await reader.result {
                case .success(let count): Issue.record("the stream ended normally after \(count) chunks")
                case .failure(let error): #expect((error as? HTTPClientError)?.code == .cancelled, "\(error)")
                }
                try await waitForDisconnect()

                // cancel() while a read waits.
                let response = try await client.stream(HTTPClientRequest(.get, server.url("/forever?interval_ms=500")))
                let waiting = Task {
                    var count = 0
                    for try await _ in response.body { count += 1 }
                    return count
                }
                try await Task.sleep(for: .milliseconds(100))
                response.cancel()
                if case .failure(let error as HTTPClientError) = await waiting.result {
                    #expect(error.code == .cancelled)
                } else {
                    Issue.record("the read did not end with .cancelled")
                }
                try await waitForDisconnect()

                // Dropping the response unread.
                do {
                    let dropped = try await client.stream(HTTPClientRequest(.get, server.url("/forever?interval_ms=10")))
                    #expect(dropped.status == 200)
                }
                try await waitForDisconnect()
            }
        }
    }

    @Test("a reader that is behind pauses the transfer; every byte still arrives in order")
    func backpressure() async throws {
        try await withTestHTTPServer { server, _ in
            var configuration = HTTPClient.Configuration()
            configuration.streamBufferBytes = 256 << 10
            try await withHTTPClient(configuration: configuration) { client in
                let total = 64 << 20
                let response = try await client.stream(HTTPClientRequest(.get, server.url("/bytes?count=\(total)")))
                var iterator = response.body.makeAsyncIterator()
                // Byte i of the body is i % 251; chunks are compared with memcmp (a byte loop is slow in debug builds).
                let pattern = (0..<(251 + (1 << 20))).map { UInt8($0 % 251) }
                var received = 0
                var mismatches = 0
                func take(_ chunk: [UInt8]) {
                    var offset = 0
                    while offset < chunk.count {
                        let count = min(chunk.count - offset, 1 << 20)
                        let start = (received + offset) % 251
                        let same = chunk.withUnsafeBytes { got in
                            pattern.withUnsafeBytes { want in memcmp(got.baseAddress! + offset, want.baseAddress! + start, count) == 0 }
                        }
                        if !same { mismatches += 1 }
                        offset += count
                    }
                    received += chunk.count
                }
                take(try #require(try await iterator.next()))
                // Without pausing, libcurl would read all 64 MiB over loopback in well under this.
                try await Task.sleep(for: .seconds(1))
                let stats = try json(try await client.send(HTTPClientRequest(.get, server.url("/stats"))).body)
                let sentWhilePaused = try #require(stats["bytes_sent"] as? Int)
                #expect(sentWhilePaused < total / 2, "the server sent \(sentWhilePaused) bytes to a reader that took \(received)")
                while let chunk = try await iterator.next() { take(chunk) }
                #expect(received == total)
                #expect(mismatches == 0)
            }
        }
    }

    @Test("errors before the head are thrown by stream(); a timeout mid-body ends the iteration")
    func streamErrors() async throws {
        let closed = try RefusingPort()
        defer { closed.close() }
        try await withTestHTTPServer { server, _ in
            try await withHTTPClient { client in
                let refused = await #expect(throws: HTTPClientError.self) {
                    _ = try await client.stream(HTTPClientRequest(.get, "http://127.0.0.1:\(closed.port)/watch"))
                }
                #expect(refused?.code == .connect)

                let response = try await client.stream(HTTPClientRequest(.get, server.url("/forever?interval_ms=20"), timeout: .milliseconds(1500)))
                var chunks = 0
                let error = await #expect(throws: HTTPClientError.self) {
                    for try await _ in response.body { chunks += 1 }
                }
                #expect(error?.code == .timeout)
                #expect(chunks > 0)
            }
        }
    }

    @Test("shutdown ends a running stream with .shutdown")
    func shutdownEndsStream() async throws {
        try await withTestHTTPServer { server, _ in
            let client = HTTPClient()
            let response = try await client.stream(HTTPClientRequest(.get, server.url("/forever?interval_ms=50")))
            await client.shutdown()
            let error = await #expect(throws: HTTPClientError.self) {
                for try await _ in response.body {}
            }
            #expect(error?.code == .shutdown)
        }
    }
}
