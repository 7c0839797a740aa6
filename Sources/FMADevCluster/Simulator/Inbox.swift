/// The queue in front of one of the simulator's loops (scheduler, ReplicaSet, Deployment and
/// DaemonSet controllers): the watch pumps `send` events, the loop reads `inputs` in order,
/// and `finish` ends the loop after what was already sent.
struct Inbox<Input: Sendable>: Sendable {
    let inputs: AsyncStream<Input>
    private let continuation: AsyncStream<Input>.Continuation

    init() {
        (inputs, continuation) = AsyncStream.makeStream()
    }

    func send(_ input: Input) {
        continuation.yield(input)
    }

    func finish() {
        continuation.finish()
    }
}

/// A simulator loop fed through an `Inbox`.
protocol InboxLoop: Sendable {
    associatedtype Input: Sendable
    var inbox: Inbox<Input> { get }
}

extension InboxLoop {
    func send(_ input: Input) {
        inbox.send(input)
    }

    /// Ends the loop after the inputs already sent.
    func finish() {
        inbox.finish()
    }
}
