import FMAAPI
import FMARPC
import FMATestSupport
import FMAWire
import Foundation
import Testing

/// The real `fma-demo` executable on a temporary Unix socket and TCP port 0.
@Suite("fma-demo as a process")
struct DemoServerProcessTests {
    @Test("health over Unix and TCP; TCP needs the right token")
    func healthAndTokens() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await DemoServer(directory: dir)
            defer { server.stop() }
            let unix = try await HealthClient(server.unixClient()).check()
            #expect(unix.status == .serving)
            #expect(unix.component == "fma-demo")
            let tcp = try await HealthClient(server.tcpClient()).check()
            #expect(tcp.status == .serving)

            let missing = await #expect(throws: RPCError.self) { _ = try await HealthClient(server.tcpClient(token: .some(nil))).check() }
            #expect(missing?.code == .unauthenticated)
            #expect(missing?.message == "missing bearer token")
            let wrong = await #expect(throws: RPCError.self) {
                _ = try await HealthClient(server.tcpClient(token: BearerToken("not-the-token"))).check()
            }
            #expect(wrong?.code == .unauthenticated)
            #expect(wrong?.message == "invalid bearer token")
            // A token one character longer or shorter is refused as well.
            let longer = await #expect(throws: RPCError.self) {
                _ = try await HealthClient(server.tcpClient(token: BearerToken(server.tokenValue + "x"))).check()
            }
            #expect(longer?.code == .unauthenticated)
        }
    }

    @Test("the Unix socket is created with mode 0660")
    func socketMode() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await DemoServer(directory: dir)
            defer { server.stop() }
            guard case .unix(let path) = server.unixAddress else { return }
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o660)
        }
    }

    @Test("under umask 000 the socket file never appears with a mode other than 0660")
    func socketModeFromTheFirstMoment() async throws {
        try await withTemporaryDirectory { dir in
            for round in 0..<8 {
                let path = dir + "/r\(round).sock"
                let ready = dir + "/r\(round).ready"
                let server = try ChildProcess("/bin/sh", ["-c", "umask 000; exec \"$0\" \"$@\"", binDirectory + "/fma-demo",
                                                          "--listen", "unix:\(path)", "--ready-file", ready], directory: dir)
                defer { server.stop() }
                var modes: Set<mode_t> = []
                let deadline = ContinuousClock.now + .seconds(30)
                while !FileManager.default.fileExists(atPath: ready) {
                    var info = stat()
                    if lstat(path, &info) == 0 { modes.insert(info.st_mode & 0o7777) }
                    guard ContinuousClock.now < deadline else { throw TestSupportError("fma-demo did not get ready within 30 s") }
                    await Task.yield()
                }
                var info = stat()
                #expect(lstat(path, &info) == 0)
                modes.insert(info.st_mode & 0o7777)
                #expect(modes == [0o660], "round \(round): modes seen \(modes.map { String($0, radix: 8) })")
            }
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".fma-socket-") }
            #expect(leftovers.isEmpty)
        }
    }

    @Test("at the descriptor limit the server logs the failure once per episode and serves again once descriptors are free")
    func descriptorLimit() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/d.sock"
            let ready = dir + "/ready"
            let server = try ChildProcess("/bin/bash", ["-c", Self.withoutInheritedDescriptors + "ulimit -n 64; exec \"$0\" \"$@\"", binDirectory + "/fma-demo",
                                                      "--listen", "unix:\(path)", "--ready-file", ready], directory: dir)
            defer { server.stop() }
            try await waitUntil(timeout: .seconds(30), "fma-demo's ready file") { FileManager.default.fileExists(atPath: ready) }
            var sockets: [RawFrameSocket] = []
            for _ in 0..<100 { if let socket = try? RawFrameSocket(.unix(path: path)) { sockets.append(socket) } }
            try await waitUntil(timeout: .seconds(30), "the accept failure in the log") { server.stderr.contains("cannot accept connections") }
            sockets.removeAll()
            let rpc = RPCClient(address: .unix(path: path))
            defer { Task { await rpc.close() } }
            var answered = false
            let deadline = ContinuousClock.now + .seconds(30)
            while !answered && ContinuousClock.now < deadline {
                answered = (try? await HealthClient(rpc).check(timeout: .seconds(2)))?.status == .serving
                if !answered { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(answered, "the server serves again once descriptors are free")
            let failures = server.stderr.components(separatedBy: "cannot accept connections").count - 1
            // Once per episode of failures (the backlog can bring a second one while it drains),
            // not once per attempt: the attempts number in the thousands.
            #expect((1...5).contains(failures), "logged \(failures) times")
        }
    }

    /// Shell code closing every descriptor above 2 the test process let the shell inherit, so a
    /// low descriptor limit applies to the server's own descriptors only.
    static let withoutInheritedDescriptors = #"for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-" 2>/dev/null; fi; done; "#

    @Test("a client sending garbage is cut off; a second client's stream is undisturbed")
    func garbageClientIsolated() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await DemoServer(directory: dir)
            defer { server.stop() }
            let good = server.unixClient()
            let stream = try await DemoClient(good).count(40, intervalMs: 5)
            var iterator = stream.makeAsyncIterator()
            let first = try await iterator.next()
            #expect(first?.index == 0)

            let bad = try RawFrameSocket(server.unixAddress)
            try bad.send(bytes: Array("GET / HTTP/1.1\r\nHost: fma\r\n\r\n".utf8))
            let refusal = try #require(try await bad.receive())
            #expect(refusal.callID == 0)
            #expect(refusal.status.code == .resourceExhausted)
            #expect(refusal.status.message.contains("exceeds the limit"))
            #expect(try await bad.receive() == nil, "the server closes the garbage connection")

            // Malformed protobuf behind a valid length: INVALID_ARGUMENT on call id 0, then close.
            let malformed = try RawFrameSocket(server.tcpAddress)
            try malformed.send(bytes: [0, 0, 0, 3, 0x00, 0xff, 0xff])
            let malformedEnd = try #require(try await malformed.receive())
            #expect(malformedEnd.callID == 0 && malformedEnd.status.code == .invalidArgument)

            var rest: [UInt32] = []
            while let message = try await iterator.next() { rest.append(message.index) }
            #expect(rest == Array(1..<40))
            let health = try await HealthClient(server.tcpClient()).check()
            #expect(health.status == .serving)
            await good.close()
        }
    }

    @Test("a client that stops reading a stream does not grow the server's memory")
    func slowReaderBoundsMemory() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await DemoServer(directory: dir)
            defer { server.stop() }
            let baseline = try #require(server.process.residentKiB)
            let stalled = try RawFrameSocket(server.unixAddress)
            stalled.setReceiveBuffer(bytes: 4096)
            // A million 64 KiB messages (64 GB) with no per-call limit: only the socket holds it back.
            let request = try Fma_V1_CountRequest.with {
                $0.count = 1_000_000
                $0.payloadBytes = 65536
            }.serializedBytes() as [UInt8]
            try stalled.send(RawFrameSocket.request(1, DemoService.count, payload: request))
            var peak = baseline
            let deadline = ContinuousClock.now + .seconds(2)
            while ContinuousClock.now < deadline {
                peak = max(peak, server.process.residentKiB ?? 0)
                try await Task.sleep(for: .milliseconds(50))
            }
            // Others are still served meanwhile.
            let health = try await HealthClient(server.unixClient()).check()
            #expect(health.status == .serving)
            #expect(peak - baseline < 64 * 1024, "server RSS grew by \(peak - baseline) KiB while one reader stalled")
        }
    }

    @Test("SIGTERM during a stream lets it finish, refuses new connections, exits 0")
    func sigtermDrains() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await DemoServer(directory: dir)
            defer { server.stop() }
            let client = server.unixClient()
            var iterator = try await DemoClient(client).count(20, intervalMs: 25).makeAsyncIterator()
            #expect(try await iterator.next()?.index == 0)
            server.process.signal(SIGTERM)
            var indices: [UInt32] = [0]
            while let message = try await iterator.next() { indices.append(message.index) }
            #expect(indices == Array(0..<20))
            let termination = try await server.process.waitForExit()
            #expect(termination.exitCode == 0, "stderr: \(server.process.stderr)")
            guard case .unix(let path) = server.unixAddress else { return }
            #expect(!FileManager.default.fileExists(atPath: path), "the socket file is removed")
            #expect(server.process.stderr.contains("draining"))
        }
    }

    @Test("while draining, Health answers DRAINING on an open connection, new calls get UNAVAILABLE, and a call cut off by the drain timeout ends with UNAVAILABLE")
    func healthWhileDraining() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await DemoServer(directory: dir, extraArguments: ["--drain-timeout", "6"])
            defer { server.stop() }
            let client = server.unixClient()
            #expect(try await HealthClient(client).check().status == .serving)
            // A stream that outlives the drain timeout (100 s of messages, 6 s to drain; the
            // checks below must be done within those 6 s, which a loaded machine allows).
            var iterator = try await DemoClient(client).count(1000, intervalMs: 100).makeAsyncIterator()
            #expect(try await iterator.next()?.index == 0)
            server.process.signal(SIGTERM)
            try await waitUntil("the drain to start") { server.process.stderr.contains("draining") }
            let health = try await HealthClient(client).check()
            #expect(health.status == .draining)
            #expect(health.message.contains("shutting down"))
            do {
                _ = try await DemoClient(client).echo("new")
                Issue.record("a new call during the drain was served")
            } catch let error as RPCError {
                #expect(error.code == .unavailable && error.message.contains("shutting down"))
            }
            var cutOff: RPCError?
            do {
                while try await iterator.next() != nil {}
            } catch let error as RPCError {
                cutOff = error
            }
            #expect(cutOff?.code == .unavailable)
            #expect(cutOff?.message.contains("drain timeout") == true)
            #expect(try await server.process.waitForExit().exitCode == 0)
        }
    }

    @Test("refuses TCP without a token, loopback included (any local user can reach it), unless --insecure",
          arguments: [("tcp://0.0.0.0:0", "from the network"), ("tcp://127.0.0.1:0", "from any local user")])
    func refusesOpenTCP(_ address: String, _ who: String) async throws {
        try await withTemporaryDirectory { dir in
            let refused = try await runCommand(binDirectory + "/fma-demo", ["--listen", address], directory: dir,
                                               environment: ["FMA_TOKEN": ""])
            #expect(refused.termination.exitCode != 0)
            #expect(refused.stderr.contains("refusing to listen on \(address) without a token"))
            #expect(refused.stderr.contains("--insecure to accept unauthenticated calls \(who)"))
            guard address.contains("127.0.0.1") else { return }
            let open = try ChildProcess(binDirectory + "/fma-demo", ["--listen", address, "--insecure", "--ready-file", dir + "/ready"],
                                        directory: dir, environment: ["FMA_TOKEN": ""])
            defer { open.stop() }
            try await waitUntil("fma-demo --insecure to listen") { FileManager.default.fileExists(atPath: dir + "/ready") }
            let bound = try RPCAddress(parsing: try #require(try String(contentsOfFile: dir + "/ready", encoding: .utf8)
                .split(separator: "\n").first.map(String.init)))
            #expect(try await HealthClient(RPCClient(address: bound)).check().status == .serving)
        }
    }

    @Test("a stale socket file is replaced; a live one is not")
    func staleSocket() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/stale.sock"
            // Leave a socket file with nothing listening on it, as a crashed server would.
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: Array(path.utf8))
                raw[path.utf8.count] = 0
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(bound == 0)
            close(fd)

            let first = try ChildProcess(binDirectory + "/fma-demo", ["--listen", "unix:\(path)", "--ready-file", dir + "/ready"], directory: dir)
            defer { first.stop() }
            try await waitUntil("fma-demo to replace the stale socket") { FileManager.default.fileExists(atPath: dir + "/ready") }
            let health = try await HealthClient(RPCClient(address: .unix(path: path))).check()
            #expect(health.status == .serving)

            let second = try await runCommand(binDirectory + "/fma-demo", ["--listen", "unix:\(path)"], directory: dir)
            #expect(second.termination.exitCode != 0)
            #expect(second.stderr.contains("another server is listening"))
            let still = try await HealthClient(RPCClient(address: .unix(path: path))).check()
            #expect(still.status == .serving, "the first server keeps its socket")
        }
    }

    @Test("the client reconnects after the server restarts")
    func reconnect() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/r.sock"
            let client = RPCClient(address: .unix(path: path))
            for round in 0..<2 {
                let ready = dir + "/ready-\(round)"
                let server = try ChildProcess(binDirectory + "/fma-demo", ["--listen", "unix:\(path)", "--ready-file", ready], directory: dir)
                try await waitUntil("fma-demo round \(round)") { FileManager.default.fileExists(atPath: ready) }
                let echo = try await DemoClient(client).echo("round \(round)")
                #expect(echo.text == "round \(round)")
                server.signal(SIGTERM)
                try await server.waitForExit()
            }
            let gone = await #expect(throws: RPCError.self) { _ = try await DemoClient(client).echo("nobody") }
            #expect(gone?.code == .unavailable)
            await client.close()
        }
    }
}
