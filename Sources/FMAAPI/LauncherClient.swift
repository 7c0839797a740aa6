public import FMARPC
public import FMAWire

/// Typed calls of `fma.v1.Launcher`.
public struct LauncherClient: Sendable {
    public let rpc: RPCClient
    /// The deadline of calls other than streams, create and delete (which wait on processes).
    public var timeout: Duration

    public init(_ rpc: RPCClient, timeout: Duration = .seconds(30)) {
        self.rpc = rpc
        self.timeout = timeout
    }

    public static let service = "fma.v1.Launcher"

    public func create(_ request: Fma_V1_CreateInstanceRequest, timeout: Duration? = .seconds(120)) async throws(RPCError) -> Fma_V1_Instance {
        try await rpc.unary("\(Self.service)/CreateInstance", request, timeout: timeout)
    }

    public func get(_ id: String) async throws(RPCError) -> Fma_V1_Instance {
        try await rpc.unary("\(Self.service)/GetInstance", Fma_V1_GetInstanceRequest.with { $0.id = id }, timeout: timeout)
    }

    public func list(idsOnly: Bool = false) async throws(RPCError) -> Fma_V1_ListInstancesResponse {
        try await rpc.unary("\(Self.service)/ListInstances", Fma_V1_ListInstancesRequest.with { $0.idsOnly = idsOnly }, timeout: timeout)
    }

    public func delete(_ id: String, gracePeriodSeconds: Double = 0, timeout: Duration? = nil) async throws(RPCError) -> Fma_V1_Instance {
        let request = Fma_V1_DeleteInstanceRequest.with {
            $0.id = id
            $0.gracePeriodSeconds = gracePeriodSeconds
        }
        return try await rpc.unary("\(Self.service)/DeleteInstance", request, timeout: timeout)
    }

    public func deleteAll(gracePeriodSeconds: Double = 0, timeout: Duration? = nil) async throws(RPCError) -> Fma_V1_DeleteAllInstancesResponse {
        try await rpc.unary("\(Self.service)/DeleteAllInstances", Fma_V1_DeleteAllInstancesRequest.with { $0.gracePeriodSeconds = gracePeriodSeconds },
                            timeout: timeout)
    }

    public func sleep(_ id: String, level: UInt32 = 1) async throws(RPCError) -> Fma_V1_Instance {
        let request = Fma_V1_SleepInstanceRequest.with {
            $0.id = id
            $0.level = level
        }
        return try await rpc.unary("\(Self.service)/SleepInstance", request)
    }

    public func wake(_ id: String) async throws(RPCError) -> Fma_V1_Instance {
        try await rpc.unary("\(Self.service)/WakeInstance", Fma_V1_WakeInstanceRequest.with { $0.id = id })
    }

    public func isSleeping(_ id: String) async throws(RPCError) -> Bool {
        let response: Fma_V1_IsSleepingResponse = try await rpc.unary("\(Self.service)/IsSleeping", Fma_V1_IsSleepingRequest.with { $0.id = id }, timeout: timeout)
        return response.isSleeping
    }

    public func log(_ id: String, start: UInt64 = 0, end: UInt64? = nil) async throws(RPCError) -> Fma_V1_GetLogResponse {
        let request = Fma_V1_GetLogRequest.with {
            $0.id = id
            $0.start = start
            if let end {
                $0.end = end
                $0.hasEnd_p = true
            }
        }
        return try await rpc.unary("\(Self.service)/GetLog", request, timeout: timeout)
    }

    public func followLog(_ id: String, start: UInt64 = 0) async throws(RPCError) -> RPCResponseStream<Fma_V1_LogChunk> {
        let request = Fma_V1_FollowLogRequest.with {
            $0.id = id
            $0.start = start
        }
        return try await rpc.serverStreaming("\(Self.service)/FollowLog", request)
    }

    public func watch(since: UInt64? = nil) async throws(RPCError) -> RPCResponseStream<Fma_V1_InstanceEvent> {
        try await rpc.serverStreaming("\(Self.service)/WatchInstances", Self.watchRequest(since: since))
    }

    /// The same watch with its events handed to `onEvent` as they arrive and its end to `onEnd`
    /// (nil: ended with OK), on the connection's event loop; no task waits on it.
    public func watch(since: UInt64? = nil, onEvent: @escaping @Sendable (Fma_V1_InstanceEvent) -> Void,
                      onEnd: @escaping @Sendable (RPCError?) -> Void) async throws(RPCError) -> RPCStreamCall {
        try await rpc.serverStreaming("\(Self.service)/WatchInstances", Self.watchRequest(since: since), onResponse: onEvent, onEnd: onEnd)
    }

    private static func watchRequest(since: UInt64?) -> Fma_V1_WatchInstancesRequest {
        .with {
            if let since {
                $0.since = since
                $0.hasSince_p = true
            }
        }
    }
}
