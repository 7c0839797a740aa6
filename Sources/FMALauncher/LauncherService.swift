import FMARPC
import FMAWire
import Foundation

/// `fma.v1.Launcher` over the RPC runtime.
struct LauncherService: RPCService {
    static let serviceName = "fma.v1.Launcher"

    let manager: InstanceManager
    let logs: LogReader

    func register(in router: inout RPCRouter) {
        let manager = self.manager
        let logs = self.logs
        router.unary("fma.v1.Launcher/CreateInstance") { (request: Fma_V1_CreateInstanceRequest, _) in
            try await manager.create(request)
        }
        router.unary("fma.v1.Launcher/GetInstance") { (request: Fma_V1_GetInstanceRequest, _) in
            try await manager.get(request.id)
        }
        router.unaryEncoded("fma.v1.Launcher/ListInstances") { (request: Fma_V1_ListInstancesRequest, _) in
            try await manager.encodedList(idsOnly: request.idsOnly)
        }
        router.unary("fma.v1.Launcher/DeleteInstance") { (request: Fma_V1_DeleteInstanceRequest, _) in
            try await manager.delete(request.id, grace: try Self.grace(request.gracePeriodSeconds))
        }
        router.unary("fma.v1.Launcher/DeleteAllInstances") { (request: Fma_V1_DeleteAllInstancesRequest, _) in
            let grace = try Self.grace(request.gracePeriodSeconds)
            var response = Fma_V1_DeleteAllInstancesResponse()
            response.instances = await manager.deleteAll(grace: grace)
            return response
        }
        router.unary("fma.v1.Launcher/SleepInstance") { (request: Fma_V1_SleepInstanceRequest, _) in
            try await manager.sleep(request.id, level: request.level)
        }
        router.unary("fma.v1.Launcher/WakeInstance") { (request: Fma_V1_WakeInstanceRequest, _) in
            try await manager.wake(request.id)
        }
        router.unary("fma.v1.Launcher/IsSleeping") { (request: Fma_V1_IsSleepingRequest, _) in
            var response = Fma_V1_IsSleepingResponse()
            response.isSleeping = try await manager.isSleeping(request.id)
            return response
        }
        router.unary("fma.v1.Launcher/GetLog") { (request: Fma_V1_GetLogRequest, _) in
            let path = try await manager.logPath(request.id)
            return try logs.read(path: path, id: request.id, start: request.start, end: request.hasEnd_p ? request.end : nil)
        }
        router.serverStreaming("fma.v1.Launcher/FollowLog") { (request: Fma_V1_FollowLogRequest, writer: RPCResponseWriter<Fma_V1_LogChunk>, context) in
            let path = try await manager.logPath(request.id)
            try await context.endingOnDrain("following the log of '\(request.id)'") {
                try await logs.follow(path: path, from: request.start, while: { await manager.exists(request.id) }) { offset, data in
                    try await writer.write(.with {
                        $0.offset = offset
                        $0.data = data
                    })
                }
            }
        }
        router.serverStreaming("fma.v1.Launcher/WatchInstances") { (request: Fma_V1_WatchInstancesRequest, writer: RPCResponseWriter<Fma_V1_InstanceEvent>, context) in
            let events = try await manager.watch(since: request.hasSince_p ? request.since : nil)
            try await context.endingOnDrain("the watch") {
                for try await event in events { try await writer.write(event) }
            }
        }
    }

    static func grace(_ seconds: Double) throws(RPCError) -> Duration? {
        guard let duration = AcceptedSeconds.duration(seconds) else {
            throw .invalidArgument(field: "grace_period_seconds",
                                   "grace_period_seconds \(seconds) must be zero (the launcher's default) or \(AcceptedSeconds.requirement)")
        }
        return seconds == 0 ? nil : duration
    }
}
