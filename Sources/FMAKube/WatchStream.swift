import FMAHTTPClient
public import FMAKubeModel

/// The events of one watch request, in order, read from the server's stream of
/// newline-delimited JSON as it arrives.
///
/// The sequence ends when the server ends the watch (its `timeoutSeconds` passed, or it
/// closed the connection cleanly): watch again from the last resourceVersion seen. It throws
/// when the connection breaks (`.transport`), for an `ERROR` event (`.api`; `isGone` when the
/// resourceVersion is too old: list again), or for a line that is not an event (`.decode`).
/// Iterate it once. Leaving the loop, cancelling the task or `cancel()` ends the request.
public struct WatchStream<T: KubeObject>: AsyncSequence, Sendable {
    public typealias Element = WatchEvent<T>
    public typealias Failure = KubeError

    let response: HTTPClientStreamingResponse
    let request: String

    init(response: HTTPClientStreamingResponse, request: String) {
        self.response = response
        self.request = request
    }

    /// Ends the watch now; a read waiting on it ends.
    public func cancel() {
        response.cancel()
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: response.body.makeAsyncIterator(), request: request)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Element = WatchEvent<T>
        public typealias Failure = KubeError

        var body: HTTPClientStreamingResponse.Body.AsyncIterator
        let request: String
        var splitter = LineSplitter()
        var pending: [[UInt8]] = []
        var pendingIndex = 0
        var finished = false

        init(body: HTTPClientStreamingResponse.Body.AsyncIterator, request: String) {
            self.body = body
            self.request = request
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(KubeError) -> WatchEvent<T>? {
            while true {
                if pendingIndex < pending.count {
                    let line = pending[pendingIndex]
                    pendingIndex += 1
                    return try WatchEvent(line: line, request: request)
                }
                if finished { return nil }
                let chunk: [UInt8]?
                do {
                    chunk = try await body.next(isolation: actor)
                } catch {
                    finished = true
                    if error.code == .cancelled || error.code == .shutdown {
                        throw KubeError(.cancelled, "\(request): the watch was cancelled", cause: error)
                    }
                    throw KubeError(.transport, "\(request): the watch stream broke", cause: error)
                }
                pending = []
                pendingIndex = 0
                guard let chunk else {
                    finished = true
                    if let rest = splitter.finish() { pending = [rest] }
                    continue
                }
                do {
                    pending = try splitter.append(chunk)
                } catch {
                    finished = true
                    throw KubeError(.decode, "\(request): a watch event is longer than \(error.limit) bytes")
                }
            }
        }

        public mutating func next() async throws(KubeError) -> WatchEvent<T>? {
            try await next(isolation: nil)
        }
    }
}
