/// A response whose body arrives over time: the head at once, the body as chunks.
///
/// The body can be iterated once. The transfer ends when the body ends, when the reader
/// leaves its loop early or its task is cancelled, when the response is dropped, or on
/// `cancel()`; a reader that cancelled gets `.cancelled` once, then the end.
public struct HTTPClientStreamingResponse: Sendable {
    public let status: Int
    public let headers: HTTPClientHeaders
    public let body: Body

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// Ends the transfer now; a read waiting on the body ends with `.cancelled`.
    public func cancel() {
        body.handle.cancel("the response was cancelled")
    }

    /// The body as byte chunks in arrival order; chunk sizes say nothing about the content
    /// (a line may span chunks).
    public struct Body: AsyncSequence, Sendable {
        public typealias Element = [UInt8]
        public typealias Failure = HTTPClientError

        let handle: StreamHandle

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(reader: StreamReader(handle: handle))
        }

        public struct AsyncIterator: AsyncIteratorProtocol {
            public typealias Element = [UInt8]
            public typealias Failure = HTTPClientError

            let reader: StreamReader

            /// The next chunk, or `nil` at the end of the body.
            public mutating func next(isolation actor: isolated (any Actor)?) async throws(HTTPClientError) -> [UInt8]? {
                let handle = reader.handle
                let result = await withTaskCancellationHandler {
                    await handle.core.read { handle.transfer.requestResume() }
                } onCancel: {
                    handle.cancel("the reading task was cancelled")
                }
                return try result.get()
            }

            public mutating func next() async throws(HTTPClientError) -> [UInt8]? {
                try await next(isolation: nil)
            }
        }
    }
}

/// What a streaming response and its iterator share: the transfer, its delegate, and the
/// client (kept alive while the response is). Dropping the last reference ends the transfer.
final class StreamHandle: Sendable {
    let client: HTTPClient
    let transfer: CurlTransfer
    let core: StreamCore
    let label: String

    init(client: HTTPClient, transfer: CurlTransfer, core: StreamCore, label: String) {
        self.client = client
        self.transfer = transfer
        self.core = core
        self.label = label
    }

    /// Ends reading and the transfer with `.cancelled` and `reason`; nothing if both ended.
    func cancel(_ reason: String) {
        let error = HTTPClientError(.cancelled, "\(label): \(reason)")
        core.cancelReading(error)
        transfer.cancel(error)
    }

    deinit {
        cancel("the response was dropped")
    }
}

/// One iterator's hold on a stream: when the iterator goes away (the reader left its loop),
/// the transfer ends.
final class StreamReader: Sendable {
    let handle: StreamHandle

    init(handle: StreamHandle) {
        self.handle = handle
    }

    deinit {
        handle.cancel("the reader stopped reading")
    }
}
