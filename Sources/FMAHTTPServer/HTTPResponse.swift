import Foundation
public import NIOCore
public import NIOHTTP1

/// What a handler answers: a status, headers and a body of bytes or a stream.
///
/// A `.bytes` body is sent with `Content-Length`; a `.stream` body is sent chunked as the
/// producer writes it (see `HTTPBodyWriter`). The server sets `Content-Length`,
/// `Transfer-Encoding` and `Connection` itself.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case bytes(ByteBuffer)
        /// Produces the body piece by piece; the response ends when the producer returns. A
        /// producer that throws ends the connection without the final chunk, so the client sees
        /// an incomplete body rather than a complete wrong one.
        case stream(@Sendable (HTTPBodyWriter) async throws -> Void)
    }

    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], body: Body = .bytes(ByteBuffer())) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with exactly `text` as its body, `text/plain; charset=utf-8` unless `headers`
    /// name another `Content-Type`.
    public static func text(_ text: String, status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:]) -> HTTPResponse {
        var headers = headers
        if !headers.contains(name: "Content-Type") {
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        }
        return HTTPResponse(status: status, headers: headers, body: .bytes(ByteBuffer(string: text)))
    }

    /// An `application/json` response: `value` encoded (keys sorted, slashes unescaped), then a
    /// newline, as Go's `json.Encoder` writes it.
    public static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:]) throws -> HTTPResponse {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        var buffer = ByteBuffer()
        buffer.writeBytes(try JSONLines.encode(value))
        return HTTPResponse(status: status, headers: headers, body: .bytes(buffer))
    }

    /// A chunked response whose body `producer` writes; `contentType` is e.g.
    /// `application/x-ndjson` for a watch stream or `text/plain; charset=utf-8` for a log.
    public static func stream(status: HTTPResponseStatus = .ok, contentType: String, headers: HTTPHeaders = [:],
                              _ producer: @escaping @Sendable (HTTPBodyWriter) async throws -> Void) -> HTTPResponse {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: contentType)
        return HTTPResponse(status: status, headers: headers, body: .stream(producer))
    }
}

/// How a streaming response's producer sends its body.
///
/// Each `write` is sent as one chunk and returns once the socket has taken it, so a client that
/// reads slowly holds the producer back and the server never buffers more than the chunk. It
/// throws once the client has gone (or the producer's task is cancelled, as on shutdown) — a
/// producer stops by letting that error propagate.
public struct HTTPBodyWriter: Sendable {
    let sink: @Sendable (ByteBuffer) async throws -> Void

    public init(_ sink: @escaping @Sendable (ByteBuffer) async throws -> Void) {
        self.sink = sink
    }

    public func write(_ buffer: ByteBuffer) async throws {
        try Task.checkCancellation()
        guard buffer.readableBytes > 0 else { return }  // an empty chunk would end the body
        try await sink(buffer)
    }

    public func write(_ text: String) async throws {
        try await write(ByteBuffer(string: text))
    }

    /// Writes `value` as one line of JSON (NDJSON): encoded with sorted keys, then a newline.
    public func writeJSONLine(_ value: some Encodable) async throws {
        try await write(ByteBuffer(bytes: try JSONLines.encode(value)))
    }
}

/// JSON as every fma HTTP surface writes it: sorted keys, unescaped slashes, a final newline.
enum JSONLines {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(UInt8(ascii: "\n"))
        return data
    }
}
