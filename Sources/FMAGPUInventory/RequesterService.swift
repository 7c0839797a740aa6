public import FMARPC
import FMAWire

/// `fma.v1.Requester` (proto/fma/v1/requester.proto) over a `Requester`.
public struct RequesterService: RPCService {
    public static let serviceName = "fma.v1.Requester"
    public static let getAccelerators = "fma.v1.Requester/GetAccelerators"
    public static let getAcceleratorMemory = "fma.v1.Requester/GetAcceleratorMemory"
    public static let setReady = "fma.v1.Requester/SetReady"
    public static let getReady = "fma.v1.Requester/GetReady"
    public static let appendLog = "fma.v1.Requester/AppendLog"

    public let requester: Requester

    public init(_ requester: Requester) {
        self.requester = requester
    }

    public func register(in router: inout RPCRouter) {
        let requester = self.requester
        router.unary(Self.getAccelerators) { (_: Fma_V1_GetAcceleratorsRequest, _) in
            Fma_V1_GetAcceleratorsResponse.with { $0.uuids = requester.accelerators }
        }
        router.unary(Self.getAcceleratorMemory) { (_: Fma_V1_GetAcceleratorMemoryRequest, _) in
            let used = try await requester.acceleratorMemoryMiB()
            return Fma_V1_GetAcceleratorMemoryResponse.with { $0.usedMib = used }
        }
        router.unary(Self.setReady) { (request: Fma_V1_SetReadyRequest, context) in
            requester.readiness.set(request.ready)
            context.logger.info("readiness set", metadata: ["ready": "\(request.ready)"])
            return Fma_V1_SetReadyResponse.with { $0.ready = request.ready }
        }
        router.unary(Self.getReady) { (_: Fma_V1_GetReadyRequest, _) in
            Fma_V1_GetReadyResponse.with { $0.ready = requester.readiness.isReady }
        }
        router.unary(Self.appendLog) { (request: Fma_V1_AppendLogRequest, _) in
            let appended = try requester.log.append(start: request.start, Array(request.data))
            return Fma_V1_AppendLogResponse.with { $0.stored = appended.stored }
        }
    }
}
