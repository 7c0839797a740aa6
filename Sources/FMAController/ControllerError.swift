public import FMAWire

/// A problem the controller reports: in the requester's `status` annotation, an Event or a log.
/// The message names the object and, where there is one, the fix.
public struct ControllerError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// The status of the fma RPC call that failed, when one did.
    public var rpcCode: Fma_V1_StatusCode?

    public init(_ message: String, rpcCode: Fma_V1_StatusCode? = nil) {
        self.message = message
        self.rpcCode = rpcCode
    }

    public var description: String { message }
}
