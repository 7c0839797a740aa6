@testable import FMAHTTPClient
import Testing

@Suite("ResponseHeadParser: header lines from libcurl to a response head")
struct ResponseHeadParserTests {
    private func parse(_ lines: [String]) -> [ResponseHead] {
        var parser = ResponseHeadParser()
        return lines.compactMap { parser.consume(Array($0.utf8)) }
    }

    @Test("HTTP/1.1 and HTTP/2 heads; values trimmed; repeated and folded fields")
    func heads() {
        let http1 = parse(["HTTP/1.1 404 Not Found\r\n", "Content-Type:  text/plain \r\n", "X-A: 1\r\n", "X-A: 2\r\n", "X-Long: a\r\n", "\tb\r\n", "\r\n"])
        #expect(http1 == [ResponseHead(status: 404, headers: ["Content-Type": "text/plain", "X-A": "1", "X-A": "2", "X-Long": "a b"])])
        let http2 = parse(["HTTP/2 200 \r\n", "content-length: 3\r\n", "\r\n"])
        #expect(http2 == [ResponseHead(status: 200, headers: ["content-length": "3"])])
    }

    @Test("interim 1xx heads are skipped; trailers after the head are ignored")
    func interimAndTrailers() {
        let heads = parse(["HTTP/1.1 100 Continue\r\n", "\r\n", "HTTP/1.1 201 Created\r\n", "Location: /x\r\n", "\r\n", "X-Trailer: t\r\n", "\r\n"])
        #expect(heads == [ResponseHead(status: 201, headers: ["Location": "/x"])])
    }
}
