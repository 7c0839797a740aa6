/// The body of a streaming response between libcurl's write callback and the one reader: a
/// bounded buffer of chunks, whether the transfer is paused for it, the reader waiting for a
/// chunk, and how the transfer ended. Transitions return what the caller must do; no I/O here.
///
/// `Reader` is whatever wakes the reader (a continuation in production, a plain value in tests).
struct StreamBodyState<Reader> {
    /// What the write callback must do with a chunk.
    enum WriteAction {
        /// Keep it: it is buffered.
        case accept
        /// Keep it, and hand it to this waiting reader.
        case deliver(Reader, [UInt8])
        /// Refuse it for now and pause the transfer; libcurl offers it again after resuming.
        case pause
        /// The reader is gone: abort the transfer.
        case abort
    }

    /// What a read must do.
    enum ReadAction {
        /// Wake `reader` with `result` (a chunk, the end as `nil`, or the failure), and resume
        /// the paused transfer first when `resumeTransfer` says so.
        case resume(Reader, Result<[UInt8]?, HTTPClientError>, resumeTransfer: Bool)
        /// Nothing to read yet: the reader waits until a write or the end wakes it.
        case wait
    }

    private enum End {
        case finished
        case failed(HTTPClientError)
        /// The end was given to the reader; every later read gets `nil`.
        case reported
    }

    /// Buffered bytes past which the transfer pauses.
    let limit: Int
    private var chunks: [[UInt8]] = []
    private var firstChunk = 0
    private(set) var bufferedBytes = 0
    private(set) var isPaused = false
    private var reader: Reader?
    private var end: End?

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// A chunk from the transfer. A chunk is always taken into an empty buffer, so any chunk
    /// size makes progress; otherwise one that would pass `limit` pauses the transfer.
    mutating func write(_ chunk: [UInt8]) -> WriteAction {
        if end != nil { return .abort }
        if let reader {
            self.reader = nil
            return .deliver(reader, chunk)
        }
        if bufferedBytes > 0, bufferedBytes + chunk.count > limit {
            isPaused = true
            return .pause
        }
        chunks.append(chunk)
        bufferedBytes += chunk.count
        return .accept
    }

    /// A read by `reader`: the next chunk, else the end, else wait. Reading the buffer down to
    /// half of `limit` resumes a paused transfer. Only one reader may wait at a time; a second
    /// concurrent one fails with `.invalidRequest`.
    mutating func read(_ reader: Reader) -> ReadAction {
        if firstChunk < chunks.count {
            let chunk = chunks[firstChunk]
            firstChunk += 1
            bufferedBytes -= chunk.count
            if firstChunk == chunks.count {
                chunks.removeAll(keepingCapacity: true)
                firstChunk = 0
            }
            var resume = false
            if isPaused, bufferedBytes <= limit / 2 {
                isPaused = false
                resume = true
            }
            return .resume(reader, .success(chunk), resumeTransfer: resume)
        }
        switch end {
        case .finished, .reported:
            end = .reported
            return .resume(reader, .success(nil), resumeTransfer: false)
        case .failed(let error):
            end = .reported
            return .resume(reader, .failure(error), resumeTransfer: false)
        case nil:
            guard self.reader == nil else {
                return .resume(reader, .failure(HTTPClientError(.invalidRequest, "a streaming body is read by two iterators at once")), resumeTransfer: false)
            }
            self.reader = reader
            return .wait
        }
    }

    /// The transfer ended. Buffered chunks are still read before the end. Returns the waiting
    /// reader to wake, with what to wake it with. Later calls do nothing.
    mutating func finish(_ result: Result<Void, HTTPClientError>) -> (Reader, Result<[UInt8]?, HTTPClientError>)? {
        guard end == nil else { return nil }
        switch result {
        case .success: end = .finished
        case .failure(let error): end = .failed(error)
        }
        guard let reader else { return nil }
        self.reader = nil
        end = .reported
        switch result {
        case .success: return (reader, .success(nil))
        case .failure(let error): return (reader, .failure(error))
        }
    }

    /// The reader gave up: buffered chunks are dropped, later writes abort, later reads fail
    /// with `error` once. Returns the waiting reader to wake with `error`.
    mutating func cancel(_ error: HTTPClientError) -> Reader? {
        chunks.removeAll()
        firstChunk = 0
        bufferedBytes = 0
        isPaused = false
        if case .reported = end { return nil }
        if let reader {
            self.reader = nil
            end = .reported
            return reader
        }
        end = .failed(error)
        return nil
    }
}
