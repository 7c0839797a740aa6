import NIOConcurrencyHelpers

/// The delegate of a `send`: gathers the head and the body (up to a limit) on the curl thread
/// and hands the complete response, or the error, to the one waiting caller.
final class ResponseCollector: CurlTransferDelegate, @unchecked Sendable {
    typealias Waiter = CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>

    private let label: String
    private let limit: Int
    // Curl thread only (and the completing thread, after the curl thread is done with them).
    private var head: ResponseHead?
    private var body: [UInt8] = []

    private enum Outcome {
        case pending(Waiter?)
        case done(Result<HTTPClientResponse, HTTPClientError>)
        case delivered
    }

    private let outcome = NIOLockedValueBox(Outcome.pending(nil))

    init(label: String, limit: Int) {
        self.label = label
        self.limit = limit
    }

    /// Waits for the response or the error; call once.
    func response() async -> Result<HTTPClientResponse, HTTPClientError> {
        await withCheckedContinuation { (waiter: Waiter) in
            let ready = outcome.withLockedValue { outcome -> Result<HTTPClientResponse, HTTPClientError>? in
                switch outcome {
                case .pending:
                    outcome = .pending(waiter)
                    return nil
                case .done(let result):
                    outcome = .delivered
                    return result
                case .delivered:
                    return .failure(HTTPClientError(.internal, "\(label): the response was already taken"))
                }
            }
            if let ready { waiter.resume(returning: ready) }
        }
    }

    func didReceiveHead(_ head: ResponseHead) {
        self.head = head
    }

    func didReceiveBody(_ bytes: UnsafeRawBufferPointer) -> BodyDisposition {
        guard body.count + bytes.count <= limit else {
            return .abort(HTTPClientError(.tooLarge, "\(label): the response body is larger than the limit of \(limit) bytes"))
        }
        body.append(contentsOf: bytes)
        return .accept
    }

    func didComplete(_ result: Result<Void, HTTPClientError>) {
        let response = result.map { _ in
            HTTPClientResponse(status: head?.status ?? 0, headers: head?.headers ?? [:], body: body)
        }
        body = []
        let waiter = outcome.withLockedValue { outcome -> Waiter? in
            guard case .pending(let waiter) = outcome else { return nil }
            outcome = waiter == nil ? .done(response) : .delivered
            return waiter
        }
        waiter?.resume(returning: response)
    }
}
