public import FMARPC
public import FMAWire

/// `fma.v1.Health`: every fma server answers it (docs/wire-protocol.md §10).
public struct HealthService: RPCService {
    public static let serviceName = "fma.v1.Health"
    public static let check = "fma.v1.Health/Check"

    /// The component answering, e.g. "fma-demo".
    public var component: String
    public var version: String
    /// The services the server serves, Health included.
    public var services: [String]
    /// Why the server cannot do its work now (NOT_SERVING with this message), or nil.
    public var problem: (@Sendable () -> String?)?
    /// The server's frame limit, reported so that clients can check what they send.
    public var maxFrameBytes: Int
    private let started = ContinuousClock.now

    public init(component: String, version: String = FMAVersion.current, services: [String], problem: (@Sendable () -> String?)? = nil,
                maxFrameBytes: Int = FrameCodec.defaultMaxFrameBytes) {
        self.component = component
        self.version = version
        self.services = Array(Set(services + [Self.serviceName])).sorted()
        self.problem = problem
        self.maxFrameBytes = maxFrameBytes
    }

    public func register(in router: inout RPCRouter) {
        router.unary(Self.check) { (request: Fma_V1_HealthCheckRequest, context) in
            try self.check(request, draining: context.serverIsDraining)
        }
    }

    /// The answer: DRAINING while the server shuts down, NOT_SERVING (with the reason) while
    /// `problem` names one, SERVING otherwise.
    func check(_ request: Fma_V1_HealthCheckRequest, draining: Bool = false) throws(RPCError) -> Fma_V1_HealthCheckResponse {
        if !request.service.isEmpty, !services.contains(request.service) {
            throw RPCError(.notFound, "service '\(request.service)' is not served here; this server serves \(services.joined(separator: ", "))",
                           details: ["field": "service"])
        }
        let elapsed = ContinuousClock.now - started
        let problem = self.problem?()
        return .with {
            $0.status = draining ? .draining : (problem == nil ? .serving : .notServing)
            $0.message = draining ? "the server is shutting down: it finishes the calls in flight and takes no new ones" : (problem ?? "")
            $0.component = component
            $0.version = version
            $0.uptimeMs = UInt64(max(0, elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000))
            $0.services = services
            $0.maxFrameBytes = UInt32(clamping: maxFrameBytes)
        }
    }
}

/// The project's version, reported by Health and `--version`.
public enum FMAVersion {
    public static let current = "0.1.0"
}
