/// A server-streaming call started with handlers (`RPCClient.serverStreaming(_:_:as:metadata:onResponse:onEnd:)`).
public struct RPCStreamCall: Sendable {
    private let cancelCall: @Sendable (String) -> Void

    init(cancel: @escaping @Sendable (String) -> Void) {
        cancelCall = cancel
    }

    /// Cancels the call: the server is told, and `onEnd` gets CANCELLED with `reason` (nothing
    /// when the call has ended already).
    public func cancel(reason: String = "cancelled by the client") {
        cancelCall(reason)
    }
}
