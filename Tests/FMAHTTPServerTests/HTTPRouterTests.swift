@testable import FMAHTTPServer
import NIOHTTP1
import Testing

/// Route matching and request-target decoding, without sockets.
@Suite("HTTP routing")
struct HTTPRouterTests {
    private static func router() -> HTTPRouter {
        var router = HTTPRouter()
        router.add(.GET, "/v2/vllm/instances") { _ in .text("list") }
        router.add(.POST, "/v2/vllm/instances") { _ in .text("create") }
        router.add(.GET, "/v2/vllm/instances/{id}") { _ in .text("get") }
        router.add(.GET, "/v2/vllm/instances/watch") { _ in .text("watch") }
        router.add(.DELETE, "/v2/vllm/instances/{id}") { _ in .text("delete") }
        router.add(.GET, "/v2/vllm/instances/{id}/log") { _ in .text("log") }
        router.add(.GET, "/a/{x}/c") { _ in .text("param-first") }
        router.add(.GET, "/a/b/{y}") { _ in .text("literal-first") }
        return router
    }

    private func pattern(_ method: HTTPMethod, _ path: String) -> String? {
        guard case .found(let route, _) = Self.router().match(method: method, segments: HTTPPath.segments(of: Substring(path))) else {
            return nil
        }
        return route.pattern
    }

    @Test("a literal segment beats a parameter, at the first position where patterns differ")
    func literalWins() {
        #expect(pattern(.GET, "/v2/vllm/instances/watch") == "/v2/vllm/instances/watch")
        #expect(pattern(.GET, "/v2/vllm/instances/abc") == "/v2/vllm/instances/{id}")
        #expect(pattern(.GET, "/v2/vllm/instances/abc/log") == "/v2/vllm/instances/{id}/log")
        #expect(pattern(.GET, "/a/b/c") == "/a/b/{y}")
        #expect(pattern(.GET, "/a/z/c") == "/a/{x}/c")
    }

    @Test("parameters bind whole, non-empty segments")
    func parameters() {
        guard case .found(_, let parameters) = Self.router().match(method: .GET, segments: ["v2", "vllm", "instances", "i-1", "log"]) else {
            Issue.record("no match")
            return
        }
        #expect(parameters == ["id": "i-1"])
        #expect(pattern(.GET, "/v2/vllm/instances/") == nil, "an empty segment binds no parameter")
        #expect(pattern(.GET, "/v2/vllm/instances/a/b") == nil)
    }

    @Test("a known path with another method is 405 listing the allowed ones; GET allows HEAD")
    func methodNotAllowed() {
        let router = Self.router()
        guard case .methodNotAllowed(let allowed) = router.match(method: .PUT, segments: ["v2", "vllm", "instances", "x"]) else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed == ["DELETE", "GET", "HEAD"])
        guard case .notFound = router.match(method: .GET, segments: ["nowhere"]) else {
            Issue.record("expected 404")
            return
        }
        #expect(pattern(.HEAD, "/v2/vllm/instances") == "/v2/vllm/instances")
    }

    @Test("query parameters are percent-decoded, + is a space, the first of a repeated name wins")
    func query() {
        let parameters = HTTPPath.parameters(of: "a=1&b=x%2By+z&a=2&flag&empty=&%C3%A9=%E2%9C%93")
        #expect(parameters == ["a": "1", "b": "x+y z", "flag": "", "empty": "", "é": "✓"])
        #expect(HTTPPath.parameters(of: "bad=%zz") == nil)
        #expect(HTTPPath.parameters(of: "cut=%4") == nil)
        #expect(HTTPPath.parameters(of: "notutf8=%ff") == nil)
    }

    @Test("request targets split into path and query; path segments decode without touching +")
    func targets() {
        let (path, query) = HTTPPath.split(target: "/v1/set-log?startPos=12#frag")
        #expect(path == "/v1/set-log")
        #expect(query == "startPos=12")
        #expect(HTTPPath.split(target: "/ready").query == nil)
        #expect(HTTPPath.decodedSegments(of: "/items/a%20b+c/%2F") == ["items", "a b+c", "/"])
        #expect(HTTPPath.segments(of: "/") == [])
    }
}
