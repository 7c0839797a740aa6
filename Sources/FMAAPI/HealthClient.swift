public import FMARPC
public import FMAWire

/// Typed calls of `fma.v1.Health`.
public struct HealthClient: Sendable {
    public let rpc: RPCClient

    public init(_ rpc: RPCClient) { self.rpc = rpc }

    public func check(service: String = "", timeout: Duration? = .seconds(10)) async throws(RPCError) -> Fma_V1_HealthCheckResponse {
        try await rpc.unary(HealthService.check, Fma_V1_HealthCheckRequest.with { $0.service = service }, timeout: timeout)
    }
}

/// Typed calls of `fma.v1.Demo`.
public struct DemoClient: Sendable {
    public let rpc: RPCClient

    public init(_ rpc: RPCClient) { self.rpc = rpc }

    public func echo(_ text: String, data: [UInt8] = [], delayMs: UInt32 = 0, timeout: Duration? = nil) async throws(RPCError) -> Fma_V1_EchoResponse {
        let request = Fma_V1_EchoRequest.with {
            $0.text = text
            $0.data = .init(data)
            $0.delayMs = delayMs
        }
        return try await rpc.unary(DemoService.echo, request, timeout: timeout)
    }

    public func count(_ count: UInt32, intervalMs: UInt32 = 0, payloadBytes: UInt32 = 0, timeout: Duration? = nil) async throws(RPCError) -> RPCResponseStream<Fma_V1_CountResponse> {
        let request = Fma_V1_CountRequest.with {
            $0.count = count
            $0.intervalMs = intervalMs
            $0.payloadBytes = payloadBytes
        }
        return try await rpc.serverStreaming(DemoService.count, request, timeout: timeout)
    }
}
