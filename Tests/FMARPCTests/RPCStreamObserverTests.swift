import FMAAPI
import FMARPC
import FMATestSupport
import FMAWire
import Foundation
import NIOConcurrencyHelpers
import Testing

@Suite("RPC server streams delivered to handlers (no waiting task)")
struct RPCStreamObserverTests {
    /// What the handlers saw, and a bounded wait for the end.
    final class Seen: Sendable {
        let indices = NIOLockedValueBox<[UInt32]>([])
        let end = NIOLockedValueBox<RPCError??>(nil)

        func waitEnd(timeout: Duration = .seconds(20)) async throws -> RPCError? {
            try await waitUntil(timeout: timeout, "the stream's end") { self.end.withLockedValue { $0 != nil } }
            return end.withLockedValue { $0! }
        }
    }

    static func count(_ client: RPCClient, _ request: Fma_V1_CountRequest, _ seen: Seen) async throws(RPCError) -> RPCStreamCall {
        try await client.serverStreaming("fma.v1.Demo/Count", request, as: Fma_V1_CountResponse.self,
                                         onResponse: { response in seen.indices.withLockedValue { $0.append(response.index) } },
                                         onEnd: { error in seen.end.withLockedValue { $0 = .some(error) } })
    }

    @Test("every response in order past the credit window, then an OK end; errors and cancels end it with their code")
    func handlers() async throws {
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock")]) { addresses in
                let client = RPCClient(address: addresses[0])
                defer { Task { await client.close() } }

                // 300 responses with a credit of 64: only credit returned by the handler path lets it finish.
                let all = Seen()
                _ = try await Self.count(client, .with { $0.count = 300 }, all)
                #expect(try await all.waitEnd() == nil)
                #expect(all.indices.withLockedValue { $0 } == Array(0..<300))

                // The server's error is the end.
                let refused = Seen()
                _ = try await Self.count(client, .with { $0.count = DemoService.maxCount + 1 }, refused)
                #expect(try await refused.waitEnd()?.code == .invalidArgument)

                // Cancelled by the client: CANCELLED with the reason; the connection goes on.
                let endless = Seen()
                let call = try await Self.count(client, .with { $0.count = 1_000_000; $0.intervalMs = 1 }, endless)
                try await waitUntil(timeout: .seconds(20), "a few responses") { endless.indices.withLockedValue { $0.count >= 3 } }
                call.cancel(reason: "enough")
                let cancelled = try await endless.waitEnd()
                #expect(cancelled?.code == .cancelled && cancelled?.message == "enough")
                #expect(try await DemoClient(client).echo("next").text == "next")

                // The connection closing ends an open stream with UNAVAILABLE.
                let cut = Seen()
                _ = try await Self.count(client, .with { $0.count = 1_000_000; $0.intervalMs = 1 }, cut)
                await client.close()
                #expect(try await cut.waitEnd()?.code == .unavailable)
            }
        }
    }
}
