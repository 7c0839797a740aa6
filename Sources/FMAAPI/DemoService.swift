public import FMARPC
import FMAWire

/// `fma.v1.Demo`: echo and counting stream, for tests, benchmarks and the first-run demo.
public struct DemoService: RPCService {
    public static let serviceName = "fma.v1.Demo"
    public static let echo = "fma.v1.Demo/Echo"
    public static let count = "fma.v1.Demo/Count"

    /// The most messages one Count call may ask for.
    public static let maxCount: UInt32 = 1_000_000
    /// The most filler bytes per Count message.
    public static let maxPayloadBytes: UInt32 = 1 << 20
    /// The longest Echo delay.
    public static let maxDelayMs: UInt32 = 600_000

    public init() {}

    public func register(in router: inout RPCRouter) {
        router.unary(Self.echo) { (request: Fma_V1_EchoRequest, _) in
            guard request.delayMs <= Self.maxDelayMs else {
                throw RPCError.invalidArgument(field: "delay_ms", "delay_ms \(request.delayMs) exceeds the maximum of \(Self.maxDelayMs)")
            }
            if request.delayMs > 0 {
                try await Task.sleep(for: .milliseconds(request.delayMs))
            }
            return Fma_V1_EchoResponse.with {
                $0.text = request.text
                $0.data = request.data
            }
        }
        router.serverStreaming(Self.count) { (request: Fma_V1_CountRequest, writer: RPCResponseWriter<Fma_V1_CountResponse>, _) in
            guard request.count <= Self.maxCount else {
                throw RPCError.invalidArgument(field: "count", "count \(request.count) exceeds the maximum of \(Self.maxCount)")
            }
            guard request.payloadBytes <= Self.maxPayloadBytes else {
                throw RPCError.invalidArgument(field: "payload_bytes", "payload_bytes \(request.payloadBytes) exceeds the maximum of \(Self.maxPayloadBytes)")
            }
            let filler = [UInt8](repeating: 0x2e, count: Int(request.payloadBytes))
            for index in 0..<request.count {
                if index > 0, request.intervalMs > 0 {
                    try await Task.sleep(for: .milliseconds(request.intervalMs))
                }
                var message = Fma_V1_CountResponse()
                message.index = index
                message.payload = .init(filler)
                try await writer.write(message)
            }
        }
    }
}
