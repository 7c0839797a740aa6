import Foundation
public import SwiftProtobuf

/// The responses of a server-streaming call, in order. Iteration ends when the server ends the
/// call with OK and throws its `RPCError` otherwise. Credit is returned to the server as
/// responses are read, so at most `credit` responses wait in the client.
public struct RPCResponseStream<Response: Message>: AsyncSequence, Sendable {
    public typealias Element = Response

    let method: String
    let payloads: AsyncThrowingStream<Data, any Error>
    let credit: UInt32
    let grant: @Sendable (UInt32) -> Void

    public struct AsyncIterator: AsyncIteratorProtocol {
        var method: String
        var payloads: AsyncThrowingStream<Data, any Error>.AsyncIterator
        let credit: UInt32
        let grant: @Sendable (UInt32) -> Void
        var consumedSinceGrant: UInt32 = 0

        public mutating func next() async throws -> Response? {
            let payload: Data?
            do {
                payload = try await payloads.next()
            } catch let error as RPCError {
                throw error
            } catch {
                throw RPCError(.cancelled, "\(method) was cancelled", cause: error)
            }
            guard let payload else { return nil }
            consumedSinceGrant += 1
            if credit > 0, consumedSinceGrant >= Swift.max(1, credit / 2) {
                grant(consumedSinceGrant)
                consumedSinceGrant = 0
            }
            do {
                return try Response(serializedBytes: payload)
            } catch {
                throw RPCError(.internal, "a response of \(method) does not decode as \(Response.protoMessageName): \(error)", cause: error)
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(method: method, payloads: payloads.makeAsyncIterator(), credit: credit, grant: grant)
    }
}
