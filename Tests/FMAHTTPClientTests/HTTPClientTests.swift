import FMAHTTPClient
import FMATestSupport
import Foundation
import Testing

@Suite("HTTPClient requests against a local HTTP server")
struct HTTPClientTests {
    @Test("GET and POST carry method, headers and body; the response carries status, headers and body")
    func getAndPost() async throws {
        try await withTestHTTPServer { server, _ in
            try await withHTTPClient { client in
                let get = try await client.send(HTTPClientRequest(.get, server.url("/echo?x=1"), headers: ["X-Test": "one", "X-Empty": ""]))
                #expect(get.status == 200)
                #expect(get.headers.first("content-type") == "application/json")
                let getEcho = try json(get.body)
                #expect(getEcho["method"] as? String == "GET")
                #expect(getEcho["target"] as? String == "/echo?x=1")
                let getHeaders = try #require(getEcho["headers"] as? [String: String])
                #expect(getHeaders["x-test"] == "one")
                #expect(getHeaders["x-empty"] == "")
                #expect(getHeaders["user-agent"] == "fma/0.1.0")
                #expect(getHeaders["content-length"] == nil)

                let body = Array("{\"level\": 1}".utf8) + [0, 255]
                let post = try await client.send(HTTPClientRequest(.post, server.url("/echo"), headers: ["Content-Type": "application/json"], body: body))
                let postEcho = try json(post.body)
                #expect(postEcho["method"] as? String == "POST")
                #expect(Data(base64Encoded: try #require(postEcho["body"] as? String)).map(Array.init) == body)
                let postHeaders = try #require(postEcho["headers"] as? [String: String])
                #expect(postHeaders["content-type"] == "application/json")
                #expect(postHeaders["content-length"] == String(body.count))
                #expect(postHeaders["expect"] == nil, "no 100-continue round trip")
            }
        }
    }

    @Test("vLLM's admin calls: POST without a body, and PUT, PATCH, DELETE, HEAD")
    func methods() async throws {
        try await withTestHTTPServer { server, _ in
            try await withHTTPClient { client in
                let sleep = try await client.send(HTTPClientRequest(.post, server.url("/echo?level=1")))
                let sleepEcho = try json(sleep.body)
                #expect(sleepEcho["method"] as? String == "POST")
                #expect(sleepEcho["target"] as? String == "/echo?level=1")
                let sleepHeaders = try #require(sleepEcho["headers"] as? [String: String])
                #expect(sleepHeaders["content-length"] == "0")
                #expect(sleepHeaders["content-type"] == nil, "no form content type is invented")

                for method in [HTTPClientRequest.Method.put, .patch, .delete, "OPTIONS"] {
                    let response = try await client.send(HTTPClientRequest(method, server.url("/echo"), body: method == .delete ? nil : Array("x".utf8)))
                    #expect(try json(response.body)["method"] as? String == method.rawValue)
                }
                let head = try await client.send(HTTPClientRequest(.head, server.url("/echo")))
                #expect(head.status == 200)
                #expect(head.body.isEmpty)
            }
        }
    }

    @Test("status codes are returned, not thrown; repeated headers are kept")
    func statusCodes() async throws {
        try await withTestHTTPServer { server, _ in
            try await withHTTPClient { client in
                for status in [201, 204, 400, 404, 409, 500, 503] {
                    let response = try await client.send(HTTPClientRequest(.get, server.url("/status/\(status)")))
                    #expect(response.status == status)
                    #expect(response.bodyText == (status == 204 ? "" : "status \(status)"))
                    #expect(response.isSuccess == (200..<300).contains(status))
                }
                let multi = try await client.send(HTTPClientRequest(.get, server.url("/multi")))
                #expect(multi.headers.values(for: "x-multi") == ["a", "b"])
            }
        }
    }

    @Test("a server that never answers fails with .timeout within the request's timeout")
    func timeout() async throws {
        try await withTestHTTPServer { server, _ in
            await withHTTPClient { client in
                let start = ContinuousClock.now
                let error = await #expect(throws: HTTPClientError.self) {
                    _ = try await client.send(HTTPClientRequest(.get, server.url("/hang"), timeout: .milliseconds(300)))
                }
                let elapsed = ContinuousClock.now - start
                #expect(error?.code == .timeout)
                #expect(error?.curlCode == 28)
                #expect(error?.message.contains(server.url("/hang")) == true, "\(String(describing: error))")
                #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(30), "took \(elapsed); with no timeout of its own the request would hang")
            }
        }
    }

    @Test("a closed port fails with .connect naming the URL and libcurl's reason")
    func connectRefused() async throws {
        let closed = try RefusingPort()
        defer { closed.close() }
        await withHTTPClient { client in
            let url = "http://127.0.0.1:\(closed.port)/health"
            let error = await #expect(throws: HTTPClientError.self) {
                _ = try await client.send(HTTPClientRequest(.get, url, timeout: .seconds(5)))
            }
            #expect(error?.code == .connect)
            #expect(error?.curlCode == 7)
            #expect(error?.message.contains("GET \(url)") == true, "\(String(describing: error))")
            #expect(error?.message.contains("Failed to connect") == true, "libcurl's error buffer: \(String(describing: error))")
        }
    }

    @Test("bodies over the limit fail with .tooLarge, with or without a Content-Length")
    func tooLarge() async throws {
        try await withTestHTTPServer { server, _ in
            try await withHTTPClient { client in
                let fits = try await client.send(HTTPClientRequest(.get, server.url("/bytes?count=1000"), maxResponseBodyBytes: 1000))
                #expect(fits.body.count == 1000)
                #expect(fits.body.enumerated().allSatisfy { $0.element == UInt8($0.offset % 251) })
                for path in ["/bytes?count=200000", "/bytes?count=200000&chunked=1"] {
                    let error = await #expect(throws: HTTPClientError.self) {
                        _ = try await client.send(HTTPClientRequest(.get, server.url(path), maxResponseBodyBytes: 100_000))
                    }
                    #expect(error?.code == .tooLarge, "\(path): \(String(describing: error))")
                    #expect(error?.message.contains("limit of 100000 bytes") == true, "\(String(describing: error))")
                }
                // The connection is still usable afterwards.
                #expect(try await client.send(HTTPClientRequest(.get, server.url("/status/200"))).status == 200)
            }
        }
    }

    @Test("bad requests fail with .invalidRequest before any I/O")
    func invalidRequests() async throws {
        await withHTTPClient { client in
            let cases: [(HTTPClientRequest, String)] = [
                (HTTPClientRequest(.get, "ftp://127.0.0.1/x"), "http:// or https://"),
                (HTTPClientRequest(.get, "http://127.0.0.1/a b"), "white space"),
                (HTTPClientRequest("GE T", "http://127.0.0.1/"), "not an HTTP token"),
                (HTTPClientRequest(.get, "http://127.0.0.1/", headers: ["X-Bad": "a\r\nInjected: yes"]), "line break"),
                (HTTPClientRequest(.get, "http://127.0.0.1/", headers: ["Bad Name": "a"]), "not an HTTP token"),
            ]
            for (request, fragment) in cases {
                let error = await #expect(throws: HTTPClientError.self) { _ = try await client.send(request) }
                #expect(error?.code == .invalidRequest)
                #expect(error?.message.contains(fragment) == true, "\(String(describing: error))")
            }
        }
    }

    @Test("100 concurrent requests each get their own answer")
    func concurrentRequests() async throws {
        try await withTestHTTPServer { server, _ in
            try await withHTTPClient { client in
                let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for index in 0..<100 {
                        group.addTask {
                            let response = try await client.send(HTTPClientRequest(.post, server.url("/echo?i=\(index)"), body: Array("call-\(index)".utf8), timeout: .seconds(30)))
                            let body = try #require(json(response.body)["body"] as? String)
                            return (index, String(decoding: Data(base64Encoded: body) ?? Data(), as: UTF8.self))
                        }
                    }
                    var answers: [Int: String] = [:]
                    for try await (index, text) in group { answers[index] = text }
                    return answers
                }
                #expect(answers.count == 100)
                for index in 0..<100 { #expect(answers[index] == "call-\(index)") }
            }
        }
    }

    @Test("cancelling the calling task ends a send with .cancelled at once")
    func cancelSend() async throws {
        try await withTestHTTPServer { server, _ in
            try await withHTTPClient { client in
                let task = Task { try await client.send(HTTPClientRequest(.get, server.url("/hang"), timeout: .seconds(20))) }
                try await Task.sleep(for: .milliseconds(200))
                let start = ContinuousClock.now
                task.cancel()
                let result = await task.result
                #expect(ContinuousClock.now - start < .seconds(10), "a cancelled send must end long before the 20 s transfer timeout")
                #expect(throws: HTTPClientError.self) { try result.get() }
                if case .failure(let error as HTTPClientError) = result { #expect(error.code == .cancelled) }
            }
        }
    }

    @Test("shutdown fails running and later requests with .shutdown and is idempotent")
    func shutdown() async throws {
        try await withTestHTTPServer { server, _ in
            let client = HTTPClient()
            #expect(try await client.send(HTTPClientRequest(.get, server.url("/status/200"))).status == 200)
            let running = Task { try await client.send(HTTPClientRequest(.get, server.url("/hang"), timeout: .seconds(20))) }
            try await Task.sleep(for: .milliseconds(200))
            await client.shutdown()
            if case .failure(let error as HTTPClientError) = await running.result {
                #expect(error.code == .shutdown)
            } else {
                Issue.record("the running request did not fail")
            }
            let later = await #expect(throws: HTTPClientError.self) {
                _ = try await client.send(HTTPClientRequest(.get, server.url("/status/200")))
            }
            #expect(later?.code == .shutdown)
            await client.shutdown()
            await HTTPClient().shutdown()
        }
    }

    @Test("the bearer token provider is asked on every request; a request's own Authorization wins")
    func bearerToken() async throws {
        try await withTestHTTPServer { server, _ in
            try await withTemporaryDirectory { directory in
                let tokenFile = directory + "/token"
                try "first-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
                var configuration = HTTPClient.Configuration()
                configuration.bearerToken = HTTPClient.Configuration.tokenFile(tokenFile)
                try await withHTTPClient(configuration: configuration) { client in
                    func authorization(_ headers: HTTPClientHeaders = [:]) async throws -> String? {
                        let response = try await client.send(HTTPClientRequest(.get, server.url("/echo"), headers: headers))
                        return (try json(response.body)["headers"] as? [String: String])?["authorization"]
                    }
                    #expect(try await authorization() == "Bearer first-token")
                    try "rotated-token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
                    #expect(try await authorization() == "Bearer rotated-token")
                    #expect(try await authorization(["Authorization": "Basic abc"]) == "Basic abc")
                    try FileManager.default.removeItem(atPath: tokenFile)
                    let error = await #expect(throws: HTTPClientError.self) { _ = try await authorization() }
                    #expect(error?.code == .configuration)
                }
            }
        }
    }

    @Test("an explicit proxy gets the request in absolute form; NO_PROXY hosts go direct")
    func proxy() async throws {
        try await withTestHTTPServer { server, _ in
            let target = server.url("/echo")
            var configuration = HTTPClient.Configuration()
            configuration.proxy = .url("http://127.0.0.1:\(server.port)")
            try await withHTTPClient(configuration: configuration) { client in
                let viaProxy = try await client.send(HTTPClientRequest(.get, target))
                #expect(try json(viaProxy.body)["target"] as? String == target, "the proxy saw the absolute URL")
            }
            configuration.proxy = .url("http://127.0.0.1:\(server.port)", noProxy: "example.invalid,127.0.0.1")
            try await withHTTPClient(configuration: configuration) { client in
                let direct = try await client.send(HTTPClientRequest(.get, target))
                #expect(try json(direct.body)["target"] as? String == "/echo", "the server saw an origin-form request")
            }
        }
    }
}
