/// A complete HTTP response, whatever its status.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var headers: HTTPClientHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPClientHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body decoded as UTF-8 (invalid sequences replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }
}
