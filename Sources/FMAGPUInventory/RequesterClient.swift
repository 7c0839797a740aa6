public import FMARPC
import FMAWire
import Foundation

/// Typed calls of `fma.v1.Requester` (the stub in a server-requesting Pod).
public struct RequesterClient: Sendable {
    public let rpc: RPCClient

    public init(_ rpc: RPCClient) { self.rpc = rpc }

    public func accelerators(timeout: Duration? = .seconds(10)) async throws(RPCError) -> [String] {
        try await rpc.unary(RequesterService.getAccelerators, Fma_V1_GetAcceleratorsRequest(),
                            as: Fma_V1_GetAcceleratorsResponse.self, timeout: timeout).uuids
    }

    /// MiB in use per accelerator UUID.
    public func acceleratorMemory(timeout: Duration? = .seconds(10)) async throws(RPCError) -> [String: UInt64] {
        try await rpc.unary(RequesterService.getAcceleratorMemory, Fma_V1_GetAcceleratorMemoryRequest(),
                            as: Fma_V1_GetAcceleratorMemoryResponse.self, timeout: timeout).usedMib
    }

    @discardableResult
    public func setReady(_ ready: Bool, timeout: Duration? = .seconds(10)) async throws(RPCError) -> Bool {
        try await rpc.unary(RequesterService.setReady, Fma_V1_SetReadyRequest.with { $0.ready = ready },
                            as: Fma_V1_SetReadyResponse.self, timeout: timeout).ready
    }

    public func isReady(timeout: Duration? = .seconds(10)) async throws(RPCError) -> Bool {
        try await rpc.unary(RequesterService.getReady, Fma_V1_GetReadyRequest(), as: Fma_V1_GetReadyResponse.self, timeout: timeout).ready
    }

    /// Relays bytes `[start, start + data.count)` of the server's log; returns how many bytes the
    /// requester has stored now.
    @discardableResult
    public func appendLog(start: Int64, _ data: [UInt8], timeout: Duration? = .seconds(10)) async throws(RPCError) -> Int64 {
        let request = Fma_V1_AppendLogRequest.with {
            $0.start = start
            $0.data = Data(data)
        }
        return try await rpc.unary(RequesterService.appendLog, request, as: Fma_V1_AppendLogResponse.self, timeout: timeout).stored
    }
}
