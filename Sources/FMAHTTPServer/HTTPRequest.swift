public import Foundation
public import NIOCore
public import NIOHTTP1

/// One HTTP request, its body collected, as a route's handler sees it.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request target's path as sent (still percent-encoded), without the query.
    public var path: String
    /// The query's parameters, percent-decoded (`+` is a space); the first value of a repeated
    /// name wins. A name without `=` has the value "".
    public var query: [String: String]
    public var headers: HTTPHeaders
    /// The whole body (at most the server's `maxBodyBytes`; larger requests get 413).
    public var body: ByteBuffer
    /// The values of the route's `{name}` segments, percent-decoded.
    public var pathParameters: [String: String]
    /// The client's address, e.g. "[IPv4]127.0.0.1/127.0.0.1:51234".
    public var peer: String

    public init(method: HTTPMethod, path: String, query: [String: String] = [:], headers: HTTPHeaders = [:],
                body: ByteBuffer = ByteBuffer(), pathParameters: [String: String] = [:], peer: String = "") {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.pathParameters = pathParameters
        self.peer = peer
    }

    /// The body as UTF-8 text (invalid bytes replaced).
    public var bodyText: String { String(buffer: body) }

    /// Decodes the body as JSON; a body that does not decode is a 400 naming the type and why.
    public func decodeJSON<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws(HTTPError) -> T {
        do {
            return try decoder.decode(T.self, from: Data(body.readableBytesView))
        } catch {
            throw HTTPError(.badRequest, "the request body is not a valid \(T.self) in JSON: \(error)", cause: error)
        }
    }

    /// The path parameter `name`; a route without it is a programming error, reported as 500.
    public func pathParameter(_ name: String) throws(HTTPError) -> String {
        guard let value = pathParameters[name] else {
            throw HTTPError(.internalServerError, "the route of \(path) has no path parameter '\(name)'")
        }
        return value
    }
}
