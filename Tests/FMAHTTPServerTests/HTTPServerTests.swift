import FMAHTTPServer
import FMARPC
import FMATestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The server over a real socket, called by curl and by a raw socket.
@Suite("HTTP server over a socket")
struct HTTPServerTests {
    private struct Echo: Codable, Equatable {
        var id: String
        var query: [String: String]
    }

    private static func router() -> HTTPRouter {
        var router = HTTPRouter()
        router.add(.GET, "/items/{id}") { request in
            try .json(Echo(id: try request.pathParameter("id"), query: request.query))
        }
        router.add(.GET, "/items/special") { _ in .text("special\n") }
        router.add(.POST, "/echo") { request in
            .text("\(request.body.readableBytes) bytes: \(request.bodyText)")
        }
        router.add(.GET, "/fail") { _ in throw TestSupportError("the disk is on fire") }
        router.add(.GET, "/bad") { _ in throw HTTPError(.badRequest, "field 'x' is missing") }
        router.add(.GET, "/rpc") { _ in throw RPCError(.notFound, "instance 'i-9' does not exist") }
        return router
    }

    @Test("routes, path parameters and decoded queries; 404, 405 with Allow, errors as statuses")
    func routing() async throws {
        try await withTemporaryDirectory { dir in
            try await withHTTPServer(Self.router()) { server in
                let item = try await curl(["\(server.url)/items/a%20b?x=1&y=two+words&z=%2F%26"], directory: dir)
                #expect(item.status == 200)
                #expect(item.headers["content-type"] == "application/json")
                #expect(try JSONDecoder().decode(Echo.self, from: Data(item.body.utf8)) == Echo(id: "a b", query: ["x": "1", "y": "two words", "z": "/&"]))
                #expect(item.body.hasSuffix("}\n"))

                let special = try await curl(["\(server.url)/items/special"], directory: dir)
                #expect(special.body == "special\n", "a literal segment beats {id}")

                let missing = try await curl(["\(server.url)/nothing/here"], directory: dir)
                #expect(missing.status == 404)
                #expect(missing.body == "not found: /nothing/here\n")

                let wrongMethod = try await curl(["-X", "DELETE", "\(server.url)/echo"], directory: dir)
                #expect(wrongMethod.status == 405)
                #expect(wrongMethod.headers["allow"] == "POST")

                let failed = try await curl(["\(server.url)/fail"], directory: dir)
                #expect(failed.status == 500)
                #expect(failed.body == "the disk is on fire\n")
                let bad = try await curl(["\(server.url)/bad"], directory: dir)
                #expect(bad.status == 400)
                #expect(bad.body == "field 'x' is missing\n")
                let rpc = try await curl(["\(server.url)/rpc"], directory: dir)
                #expect(rpc.status == 404)
                #expect(rpc.body == "instance 'i-9' does not exist\n")

                let badQuery = try await curl(["\(server.url)/items/x?q=%zz"], directory: dir)
                #expect(badQuery.status == 400)
            }
        }
    }

    @Test("bodies up to the limit are read, with or without Expect: 100-continue; larger ones get 413")
    func bodyLimit() async throws {
        var configuration = HTTPServer.Configuration(name: "test")
        configuration.maxBodyBytes = 1024
        try await withTemporaryDirectory { dir in
            try await withHTTPServer(Self.router(), configuration: configuration) { server in
                try String(repeating: "a", count: 1024).write(toFile: dir + "/fits", atomically: true, encoding: .utf8)
                try String(repeating: "b", count: 4096).write(toFile: dir + "/big", atomically: true, encoding: .utf8)
                let fits = try await curl(["--data-binary", "@\(dir)/fits", "\(server.url)/echo"], directory: dir)
                #expect(fits.status == 200)
                #expect(fits.body.hasPrefix("1024 bytes: aaaa"))
                let expecting = try await curl(["-H", "Expect: 100-continue", "--data-binary", "@\(dir)/fits", "\(server.url)/echo"], directory: dir)
                #expect(expecting.status == 200)

                let declared = try await curl(["-H", "Expect: 100-continue", "--data-binary", "@\(dir)/big", "\(server.url)/echo"], directory: dir)
                #expect(declared.status == 413)
                #expect(declared.body == "the request body of 4096 bytes exceeds the limit of 1024 bytes\n")
                let chunked = try await curl(["-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue", "--data-binary", "@\(dir)/big",
                                              "\(server.url)/echo"], directory: dir)
                #expect(chunked.status == 413)
                #expect(chunked.body == "the request body exceeds the limit of 1024 bytes\n")

                let after = try await curl(["--data-binary", "small", "\(server.url)/echo"], directory: dir)
                #expect(after.body == "5 bytes: small", "the server goes on serving")
            }
        }
    }

    @Test("keep-alive: several requests on one connection; HEAD gets the headers without the body")
    func keepAlive() async throws {
        try await withHTTPServer(Self.router()) { server in
            let socket = try RawFrameSocket(server.address)
            var received: [UInt8] = []
            try socket.send(bytes: Array("GET /items/special HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
            _ = try await socket.readText(into: &received) { $0.hasSuffix("special\n") }
            try socket.send(bytes: Array("HEAD /items/special HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
            try socket.send(bytes: Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi".utf8))
            let all = try await socket.readText(into: &received) { $0.hasSuffix("2 bytes: hi") }
            #expect(all.components(separatedBy: "HTTP/1.1 200 OK").count == 4, "three responses on one connection")
            #expect(all.contains("Content-Length: 8\r\n\r\nHTTP/1.1 200 OK"), "HEAD announces the length and sends no body")

            try socket.send(bytes: Array("GET /items/special HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".utf8))
            try await socket.waitForClose()
        }
    }

    @Test("a router can serve Prometheus metrics at /metrics")
    func metrics() async throws {
        var router = HTTPRouter()
        router.addMetrics { "# TYPE fma_test_total counter\nfma_test_total 3\n" }
        try await withTemporaryDirectory { dir in
            try await withHTTPServer(router) { server in
                let scraped = try await curl(["\(server.url)/metrics"], directory: dir)
                #expect(scraped.status == 200)
                #expect(scraped.headers["content-type"] == HTTPRouter.prometheusContentType)
                #expect(scraped.body.contains("fma_test_total 3\n"))
            }
        }
    }

    @Test("a Unix address is refused; a port in use is UNAVAILABLE naming the address")
    func bindErrors() async throws {
        let unix = HTTPServer(address: .unix(path: "/tmp/x.sock"), router: HTTPRouter(), logger: .silent)
        let refused = await #expect(throws: RPCError.self) { try await unix.bind() }
        #expect(refused?.code == .invalidArgument)
        try await withHTTPServer(HTTPRouter()) { server in
            let second = HTTPServer(address: server.address, router: HTTPRouter(), logger: .silent)
            let busy = await #expect(throws: RPCError.self) { try await second.bind() }
            #expect(busy?.code == .unavailable)
            #expect(busy?.message.contains("cannot listen on \(server.address)") == true)
        }
    }
}
