import FMAAPI
import FMARPC
import FMATestSupport
import FMAWire
import Testing

@Suite("RPC calls over a real socket, server in process")
struct RPCCallTests {
    @Test("unary and streaming calls answer over Unix and TCP")
    func basicCalls() async throws {
        try await withTemporaryDirectory { dir in
            let token = BearerToken("call-test-token")
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock"), .tcp(host: "127.0.0.1", port: 0)], token: token) { addresses in
                #expect(addresses.count == 2)
                guard case .tcp(_, let port) = addresses[1] else { Issue.record("not tcp"); return }
                #expect(port > 0, "port 0 is reported as the bound port")
                for address in addresses {
                    let client = RPCClient(address: address, token: token)
                    defer { Task { await client.close() } }
                    let health = try await HealthClient(client).check()
                    #expect(health.status == .serving)
                    #expect(health.services == ["fma.v1.Demo", "fma.v1.Health"])
                    let echo = try await DemoClient(client).echo("hello", data: [0, 1, 255])
                    #expect(echo.text == "hello")
                    #expect(Array(echo.data) == [0, 1, 255])
                    var indices: [UInt32] = []
                    for try await message in try await DemoClient(client).count(50) { indices.append(message.index) }
                    #expect(indices == Array(0..<50))
                }
            }
        }
    }

    @Test("100 concurrent calls over one connection each get their own answer")
    func concurrentCalls() async throws {
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock")]) { addresses in
                let client = RPCClient(address: addresses[0])
                let demo = DemoClient(client)
                let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for index in 0..<100 {
                        group.addTask {
                            // Varying delays make the answers come back out of order.
                            let response = try await demo.echo("call-\(index)", delayMs: UInt32(index % 7) * 3)
                            return (index, response.text)
                        }
                    }
                    var answers: [Int: String] = [:]
                    for try await (index, text) in group { answers[index] = text }
                    return answers
                }
                #expect(answers.count == 100)
                for index in 0..<100 { #expect(answers[index] == "call-\(index)") }
                await client.close()
            }
        }
    }

    @Test("errors carry precise codes: unknown method, bad payload, invalid field")
    func errorCodes() async throws {
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock")]) { addresses in
                let client = RPCClient(address: addresses[0])
                defer { Task { await client.close() } }
                let unknown = await #expect(throws: RPCError.self) {
                    _ = try await client.unary("fma.v1.Nope/Nothing", Fma_V1_EchoRequest(), as: Fma_V1_EchoResponse.self)
                }
                #expect(unknown?.code == .unimplemented)
                #expect(unknown?.message.contains("fma.v1.Nope/Nothing") == true)
                #expect(unknown?.message.contains("fma.v1.Demo") == true)

                // Bytes that are no EchoRequest: field 1, length-delimited, announcing 127 bytes that are not there.
                let socket = try RawFrameSocket(addresses[0])
                try socket.send(RawFrameSocket.request(1, DemoService.echo, payload: [0x0a, 0x7f, 0x41]))
                let badPayload = try #require(try await socket.receive())
                #expect(badPayload.status.code == .invalidArgument)
                #expect(badPayload.status.message.contains("fma.v1.EchoRequest"))

                let tooMany = await #expect(throws: RPCError.self) {
                    for try await _ in try await DemoClient(client).count(DemoService.maxCount + 1) {}
                }
                #expect(tooMany?.code == .invalidArgument)
                #expect(tooMany?.details["field"] == "count")

                let unknownService = await #expect(throws: RPCError.self) {
                    _ = try await HealthClient(client).check(service: "fma.v1.Launcher")
                }
                #expect(unknownService?.code == .notFound)
                // The connection still serves after all that.
                let after = try await DemoClient(client).echo("still here")
                #expect(after.text == "still here")
            }
        }
    }

    @Test("a deadline ends a slow call with DEADLINE_EXCEEDED; the connection goes on")
    func deadline() async throws {
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock")]) { addresses in
                let client = RPCClient(address: addresses[0])
                defer { Task { await client.close() } }
                let error = await #expect(throws: RPCError.self) {
                    _ = try await DemoClient(client).echo("slow", delayMs: 30_000, timeout: .milliseconds(200))
                }
                #expect(error?.code == .deadlineExceeded)
                let after = try await DemoClient(client).echo("after")
                #expect(after.text == "after")
            }
        }
    }

    @Test("the server enforces the deadline it is sent, even if the client waits")
    func serverSideDeadline() async throws {
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock")]) { addresses in
                let socket = try RawFrameSocket(addresses[0])
                var frame = RawFrameSocket.request(1, DemoService.echo, payload: try Fma_V1_EchoRequest.with { $0.delayMs = 30_000 }.serializedBytes())
                frame.request.timeoutMs = 100
                try socket.send(frame)
                let end = try #require(try await socket.receive())
                #expect(end.callID == 1)
                #expect(end.status.code == .deadlineExceeded)
            }
        }
    }

    @Test("the largest timeout_ms and initial_credit a frame can carry are served, not trapped on")
    func largestFrameNumbers() async throws {
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock")]) { addresses in
                let socket = try RawFrameSocket(addresses[0])
                var frame = RawFrameSocket.request(1, DemoService.echo, payload: try Fma_V1_EchoRequest.with { $0.text = "far" }.serializedBytes(),
                                                   credit: .max)
                frame.request.timeoutMs = .max
                try socket.send(frame)
                var ended: Fma_V1_CallStatus?
                while ended == nil, let next = try await socket.receive() {
                    if case .status(let status) = next.body { ended = status }
                }
                #expect(ended?.code == .ok)
                // A client asked for the longest timeout sends the largest one the server accepts.
                let rpc = RPCClient(address: addresses[0])
                defer { Task { await rpc.close() } }
                #expect(try await DemoClient(rpc).echo("still here", timeout: .seconds(Int64.max)).text == "still here")
            }
        }
    }

    @Test("cancelling the calling task cancels the call on the server")
    func cancellation() async throws {
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock")]) { addresses in
                let client = RPCClient(address: addresses[0])
                defer { Task { await client.close() } }
                let task = Task { try await DemoClient(client).echo("never", delayMs: 30_000) }
                try await Task.sleep(for: .milliseconds(50))
                task.cancel()
                let error = await #expect(throws: RPCError.self) { _ = try await task.value }
                #expect(error?.code == .cancelled)

                // On the wire: a cancel frame ends the call with CANCELLED.
                let socket = try RawFrameSocket(addresses[0])
                try socket.send(RawFrameSocket.request(4, DemoService.echo, payload: try Fma_V1_EchoRequest.with { $0.delayMs = 30_000 }.serializedBytes()))
                var cancel = Fma_V1_Frame()
                cancel.callID = 4
                cancel.cancel.reason = "test"
                try socket.send(cancel)
                let end = try #require(try await socket.receive())
                #expect(end.callID == 4)
                #expect(end.status.code == .cancelled)
            }
        }
    }

    @Test("a reader that leaves a stream early cancels it; the client keeps working")
    func leaveStreamEarly() async throws {
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock")]) { addresses in
                let client = RPCClient(address: addresses[0])
                defer { Task { await client.close() } }
                var seen = 0
                for try await _ in try await DemoClient(client).count(1_000_000, intervalMs: 1) {
                    seen += 1
                    if seen == 3 { break }
                }
                #expect(seen == 3)
                let next = try await DemoClient(client).echo("next")
                #expect(next.text == "next")
            }
        }
    }

    @Test("per-call credit: the server sends no more than granted, other calls go on meanwhile")
    func perCallCredit() async throws {
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock")]) { addresses in
                let socket = try RawFrameSocket(addresses[0])
                let count = try Fma_V1_CountRequest.with { $0.count = 100 }.serializedBytes() as [UInt8]
                try socket.send(RawFrameSocket.request(1, DemoService.count, payload: count, credit: 4))
                var received: [UInt32] = []
                for _ in 0..<4 {
                    let frame = try #require(try await socket.receive())
                    received.append(try Fma_V1_CountResponse(serializedBytes: frame.response.payload).index)
                }
                #expect(received == [0, 1, 2, 3])
                #expect(try await socket.staysSilent(for: .milliseconds(200)), "no response beyond the credit")

                // A unary call on the same connection is answered while the stream waits.
                try socket.send(RawFrameSocket.request(2, DemoService.echo, payload: try Fma_V1_EchoRequest.with { $0.text = "x" }.serializedBytes()))
                let response = try #require(try await socket.receive())
                #expect(response.callID == 2)
                let status = try #require(try await socket.receive())
                #expect(status.callID == 2 && status.status.code == .ok)

                var credit = Fma_V1_Frame()
                credit.callID = 1
                credit.credit.messages = 96
                try socket.send(credit)
                var rest = 0
                while true {
                    let frame = try #require(try await socket.receive())
                    if case .status(let end) = frame.body {
                        #expect(end.code == .ok)
                        break
                    }
                    rest += 1
                }
                #expect(rest == 96)
            }
        }
    }
}

@Suite("Frame size limits on calls")
struct FrameLimitTests {
    @Test("a request too large for a frame fails locally; the connection stays usable")
    func oversizedRequest() async throws {
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock")]) { addresses in
                let client = RPCClient(address: addresses[0])
                defer { Task { await client.close() } }
                let error = await #expect(throws: RPCError.self) {
                    _ = try await DemoClient(client).echo("big", data: [UInt8](repeating: 1, count: FrameCodec.defaultMaxFrameBytes))
                }
                #expect(error?.code == .resourceExhausted)
                let small = try await DemoClient(client).echo("small", data: [UInt8](repeating: 2, count: 1 << 20))
                #expect(small.data.count == 1 << 20)
            }
        }
    }

    @Test("a response too large for the server's frame limit ends the call, not the connection")
    func oversizedResponse() async throws {
        try await withTemporaryDirectory { dir in
            try await withInProcessServer(listen: [.unix(path: dir + "/s.sock")], configure: { $0.maxFrameBytes = 4096 }) { addresses in
                let client = RPCClient(address: addresses[0])
                defer { Task { await client.close() } }
                let error = await #expect(throws: RPCError.self) {
                    for try await _ in try await DemoClient(client).count(3, payloadBytes: 8000) {}
                }
                #expect(error?.code == .resourceExhausted)
                #expect(error?.message.contains("fma.v1.Demo/Count") == true)
                let after = try await DemoClient(client).echo("after")
                #expect(after.text == "after")
            }
        }
    }
}
