public import FMAKubeModel
import Foundation
import NIOConcurrencyHelpers

/// Records Events in the background, in the order they were posted, so that a controller's
/// reconcile does not wait for an API round trip to tell people what it did (client-go's
/// recorder is asynchronous for the same reason).
///
/// `post` never blocks and never fails; each Event keeps the time it was posted. At most
/// `capacity` Events wait: beyond that the oldest waiting ones are dropped (and counted), as
/// Events are best effort. `run()` records them until its task is cancelled.
public final class EventQueue: Sendable {
    struct Pending: Sendable {
        var record: @Sendable (EventRecorder) async -> Void
    }

    public let recorder: EventRecorder
    private let stream: AsyncStream<Pending>
    private let continuation: AsyncStream<Pending>.Continuation
    private let dropped = NIOLockedValueBox<Int>(0)

    public init(recorder: EventRecorder, capacity: Int = 10_000) {
        self.recorder = recorder
        (stream, continuation) = AsyncStream.makeStream(of: Pending.self, bufferingPolicy: .bufferingNewest(max(1, capacity)))
    }

    /// Events dropped because `capacity` were already waiting.
    public var droppedCount: Int { dropped.withLockedValue { $0 } }

    /// Queues an Event about `object` (see `EventRecorder.record`).
    public func post<T: KubeObject>(_ object: T, type: EventRecorder.EventType = .normal, reason: String, message: String) {
        let time = Date()
        let result = continuation.yield(Pending { recorder in
            await recorder.record(object, type: type, reason: reason, message: message, at: time)
        })
        if case .dropped = result { dropped.withLockedValue { $0 += 1 } }
    }

    /// Records the posted Events one at a time, until the task is cancelled.
    public func run() async {
        for await pending in stream {
            if Task.isCancelled { break }
            await pending.record(recorder)
        }
    }
}
