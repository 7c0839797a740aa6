import NIOConcurrencyHelpers

/// The delegate of a `stream`: hands the head to the caller of `stream`, then the body chunk
/// by chunk to the one reader through a bounded `StreamBodyState`, pausing the transfer while
/// the reader is behind.
final class StreamCore: CurlTransferDelegate, @unchecked Sendable {
    typealias HeadWaiter = CheckedContinuation<Result<ResponseHead, HTTPClientError>, Never>
    typealias Reader = CheckedContinuation<Result<[UInt8]?, HTTPClientError>, Never>

    private enum HeadPhase {
        case waiting(HeadWaiter?)
        case received(ResponseHead)
        case failed(HTTPClientError)
        case taken
    }

    private struct State {
        var head = HeadPhase.waiting(nil)
        var body: StreamBodyState<Reader>
    }

    private let label: String
    private let state: NIOLockedValueBox<State>

    init(label: String, bufferLimit: Int) {
        self.label = label
        state = NIOLockedValueBox(State(body: StreamBodyState(limit: bufferLimit)))
    }

    /// Waits for the response head, or the error that ended the transfer before it; call once.
    func head() async -> Result<ResponseHead, HTTPClientError> {
        await withCheckedContinuation { (waiter: HeadWaiter) in
            let ready = state.withLockedValue { state -> Result<ResponseHead, HTTPClientError>? in
                switch state.head {
                case .waiting:
                    state.head = .waiting(waiter)
                    return nil
                case .received(let head):
                    state.head = .taken
                    return .success(head)
                case .failed(let error):
                    return .failure(error)
                case .taken:
                    return .failure(HTTPClientError(.internal, "\(label): the response head was already taken"))
                }
            }
            if let ready { waiter.resume(returning: ready) }
        }
    }

    /// Waits for the next chunk (`nil` at the end); `resume` is called first when the read made
    /// room for a paused transfer.
    func read(resume: () -> Void) async -> Result<[UInt8]?, HTTPClientError> {
        await withCheckedContinuation { (reader: Reader) in
            let action = state.withLockedValue { $0.body.read(reader) }
            guard case .resume(let reader, let result, let resumeTransfer) = action else { return }
            if resumeTransfer { resume() }
            reader.resume(returning: result)
        }
    }

    /// The reader gave up: a waiting read ends with `error`, and so does the next one.
    func cancelReading(_ error: HTTPClientError) {
        let reader = state.withLockedValue { $0.body.cancel(error) }
        reader?.resume(returning: .failure(error))
    }

    // MARK: - CurlTransferDelegate

    func didReceiveHead(_ head: ResponseHead) {
        let waiter = state.withLockedValue { state -> HeadWaiter? in
            guard case .waiting(let waiter) = state.head else { return nil }
            state.head = waiter == nil ? .received(head) : .taken
            return waiter
        }
        waiter?.resume(returning: .success(head))
    }

    func didReceiveBody(_ bytes: UnsafeRawBufferPointer) -> BodyDisposition {
        let action = state.withLockedValue { $0.body.write(Array(bytes)) }
        switch action {
        case .accept:
            return .accept
        case .deliver(let reader, let chunk):
            reader.resume(returning: .success(chunk))
            return .accept
        case .pause:
            return .pause
        case .abort:
            return .abort(HTTPClientError(.cancelled, "\(label): the reader stopped reading"))
        }
    }

    func didComplete(_ result: Result<Void, HTTPClientError>) {
        typealias Wake = (head: (HeadWaiter, HTTPClientError)?, reader: (Reader, Result<[UInt8]?, HTTPClientError>)?)
        let wake = state.withLockedValue { state -> Wake in
            var head: (HeadWaiter, HTTPClientError)?
            if case .waiting(let waiter) = state.head {
                let error: HTTPClientError
                switch result {
                case .failure(let failure): error = failure
                case .success: error = HTTPClientError(.protocol, "\(label): the transfer ended without a response head")
                }
                state.head = .failed(error)
                head = waiter.map { ($0, error) }
            }
            return (head, state.body.finish(result))
        }
        if let (waiter, error) = wake.head { waiter.resume(returning: .failure(error)) }
        if let (reader, value) = wake.reader { reader.resume(returning: value) }
    }
}
