import FMAAPI
import FMARPC
import FMATestSupport
import FMAWire
import Foundation
import Testing

/// Slow and half-open peers: a partial frame must complete in time, and the bytes a server
/// holds in partial frames are bounded (more tightly for connections with no authenticated call).
@Suite("RPC server: partial frames are bounded in time and bytes")
struct RPCFrameLimitsTests {
    /// A length prefix announcing `length` bytes, and `body` bytes of it.
    static func partialFrame(length: UInt32, body: Int) -> [UInt8] {
        withUnsafeBytes(of: length.bigEndian) { Array($0) } + [UInt8](repeating: 0x0a, count: body)
    }

    /// Expects a status frame with `code` whose message mentions `words`, then the close.
    static func expectClosed(_ socket: RawFrameSocket, _ code: Fma_V1_StatusCode, mentioning words: String) async throws {
        let frame = try #require(try await socket.receive(timeout: .seconds(20)))
        guard case .status(let ended) = frame.body else { Issue.record("expected a status frame, got \(frame)"); return }
        #expect(ended.code == code)
        #expect(ended.message.contains(words), "\(ended.message)")
        #expect(try await socket.receive(timeout: .seconds(20)) == nil, "the connection is closed")
    }

    @Test("a frame not complete within --frame-timeout closes the connection with DEADLINE_EXCEEDED; other clients go on")
    func frameTimeout() async throws {
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock")], configure: { $0.frameTimeout = .milliseconds(300) }) { addresses in
                let slow = try RawFrameSocket(addresses[0])
                try slow.send(bytes: Self.partialFrame(length: 1000, body: 10))
                try await Self.expectClosed(slow, .deadlineExceeded, mentioning: "--frame-timeout")
                // A well-behaved client is not affected, and whole frames sent slowly apart are fine.
                let rpc = RPCClient(address: addresses[0])
                defer { Task { await rpc.close() } }
                #expect(try await DemoClient(rpc).echo("fine").text == "fine")
            }
        }
    }

    @Test("with --max-connection-idle a connection that does nothing is closed with UNAVAILABLE; one with a call open is not")
    func idleConnection() async throws {
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock")], configure: { $0.maxConnectionIdle = .milliseconds(300) }) { addresses in
                let idle = try RawFrameSocket(addresses[0])
                try await Self.expectClosed(idle, .unavailable, mentioning: "--max-connection-idle")
            }
            // A call that outlasts the idle time keeps its connection open.
            try await withInProcessServer(listen: [.unix(path: dir + "/t.sock")], configure: { $0.maxConnectionIdle = .seconds(2) }) { addresses in
                let rpc = RPCClient(address: addresses[0])
                defer { Task { await rpc.close() } }
                let slow = try await DemoClient(rpc).echo("slow", delayMs: 3000)
                let again = try await DemoClient(rpc).echo("again")
                #expect(slow.text == "slow" && again.text == "again")
            }
        }
    }

    @Test("partial frames past the budget for unauthenticated connections are RESOURCE_EXHAUSTED; authenticated connections still work")
    func partialFrameBudget() async throws {
        let token = BearerToken("frame-budget-token")!
        try await withInProcessServer(listen: [.tcp(host: "127.0.0.1", port: 0)], token: token, configure: {
            $0.maxFrameBytes = 1 << 20
            $0.maxBufferedFrameBytes = 4 << 20
            $0.maxUnauthenticatedBufferedFrameBytes = 1 << 20
        }) { addresses in
            // A client that has made an authenticated call before the flood.
            let rpc = RPCClient(address: addresses[0], token: token)
            defer { Task { await rpc.close() } }
            #expect(try await DemoClient(rpc).echo("hello").text == "hello")
            let first = try RawFrameSocket(addresses[0])
            try first.send(bytes: Self.partialFrame(length: 900_000, body: 100))
            #expect(try await first.staysSilent(for: .milliseconds(200)), "one partial frame within the budget is waited for")
            let second = try RawFrameSocket(addresses[0])
            try second.send(bytes: Self.partialFrame(length: 900_000, body: 100))
            try await Self.expectClosed(second, .resourceExhausted, mentioning: "partial frames")
            // The authenticated connection's large call is served meanwhile.
            let big = String(repeating: "x", count: 600_000)
            #expect(try await DemoClient(rpc).echo(big).text.count == big.count)
        }
    }
}
