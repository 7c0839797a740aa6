import FMAGPUInventory
import FMARPC
import FMAWire
import Foundation
import NIOConcurrencyHelpers

/// The requester stubs of `fma-bench scale`: `fma.v1.Requester` on every requester address of
/// every hollow node (GPU g of node n answers its one mock GPU), and a record of the readiness
/// the controller relays, which ends a wave and which the hollow kubelet turns into the Pods'
/// Ready condition as a readiness probe would.
final class SimulatedRequesters: Sendable {
    private struct Board {
        var ready: [String: Bool] = [:]
        var createdAt: [String: ContinuousClock.Instant] = [:]
        var servedAfter: [String: Duration] = [:]
    }

    let layout: ScaleLayout
    private let board = NIOLockedValueBox(Board())
    private let onReadiness: NIOLockedValueBox<(@Sendable (String) -> Void)?> = NIOLockedValueBox(nil)

    init(layout: ScaleLayout) {
        self.layout = layout
    }

    /// Called with the requester's name whenever the controller relays its readiness.
    func onReadinessChange(_ handler: @escaping @Sendable (String) -> Void) {
        onReadiness.withLockedValue { $0 = handler }
    }

    /// One server per requester address; returns once all listen.
    func servers(token: BearerToken) -> [RPCServer] {
        var servers: [RPCServer] = []
        for node in 1...layout.nodes {
            for gpu in 0..<layout.gpusPerNode {
                let name = ScaleLayout.requesterName(node: node, gpu: gpu)
                var router = RPCRouter()
                router.add(Service(name: name, uuid: ScaleLayout.gpuUUID(node: node, gpu: gpu), requesters: self))
                let host = ScaleLayout.address(node: node, slot: ScaleLayout.requesterSlot(gpu: gpu))
                var configuration = RPCServer.Configuration(listen: [.tcp(host: host, port: ScaleLayout.requesterPort)], token: token)
                configuration.drainTimeout = .seconds(1)
                servers.append(RPCServer(configuration: configuration, router: router, logger: .silent))
            }
        }
        return servers
    }

    // MARK: The board

    /// A wave begins: every requester unready, no times kept.
    func startWave() {
        board.withLockedValue { $0 = Board() }
    }

    func created(_ name: String) {
        let now = ContinuousClock.now
        board.withLockedValue { $0.createdAt[name] = now }
    }

    func isReady(_ name: String) -> Bool {
        board.withLockedValue { $0.ready[name] ?? false }
    }

    /// Requesters whose readiness was relayed this wave.
    var servedCount: Int {
        board.withLockedValue { $0.servedAfter.count }
    }

    /// Create call → readiness relayed, per requester served this wave.
    var servedAfter: [Duration] {
        board.withLockedValue { Array($0.servedAfter.values) }
    }

    fileprivate func setReady(_ name: String, _ ready: Bool) {
        let now = ContinuousClock.now
        board.withLockedValue { board in
            board.ready[name] = ready
            if ready, board.servedAfter[name] == nil, let created = board.createdAt[name] {
                board.servedAfter[name] = now - created
            }
        }
        onReadiness.withLockedValue { $0 }?(name)
    }

    private struct Service: RPCService {
        static let serviceName = RequesterService.serviceName
        let name: String
        let uuid: String
        let requesters: SimulatedRequesters

        func register(in router: inout RPCRouter) {
            let name = self.name
            let uuid = self.uuid
            let requesters = self.requesters
            router.unary(RequesterService.getAccelerators) { (_: Fma_V1_GetAcceleratorsRequest, _) in
                Fma_V1_GetAcceleratorsResponse.with { $0.uuids = [uuid] }
            }
            router.unary(RequesterService.setReady) { (request: Fma_V1_SetReadyRequest, _) in
                requesters.setReady(name, request.ready)
                return Fma_V1_SetReadyResponse.with { $0.ready = request.ready }
            }
            router.unary(RequesterService.getReady) { (_: Fma_V1_GetReadyRequest, _) in
                Fma_V1_GetReadyResponse.with { $0.ready = requesters.isReady(name) }
            }
        }
    }
}
