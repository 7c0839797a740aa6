import NIOCore
import NIOHTTP1

/// Writes response parts straight to a connection's channel and returns once they are written
/// to the socket, so a client that reads slowly holds the writer back by no more than what the
/// kernel buffers (an async channel's outbound writer would let a fast producer queue
/// megabytes before writability catches up). Throws once the connection has closed.
struct ResponseWriter: Sendable {
    let channel: any Channel

    func write(_ part: HTTPServerResponsePart) async throws {
        try await channel.writeAndFlush(part).get()
    }

    /// Writes `parts` in order with one flush.
    func write(contentsOf parts: [HTTPServerResponsePart]) async throws {
        guard let last = parts.last else { return }
        for part in parts.dropLast() { channel.write(part, promise: nil) }
        try await channel.writeAndFlush(last).get()
    }
}
