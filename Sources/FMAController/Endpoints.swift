import FMAHTTPClient
import FMAJSON
import FMAKubeModel
import FMARPC

/// Where the controller reaches a requester's stub or an instance's server.
enum Endpoints {
    /// The port of the inference-server container's port named `fma-rpc`.
    static func rpcPort(of pod: Pod) -> Int? {
        pod.spec.container(named: DualPods.inferenceServerContainer)?.ports
            .first { $0.name == DualPods.rpcPortName }
            .map(\.containerPort)
            .flatMap { (1...65535).contains($0) ? $0 : nil }
    }

    /// `tcp://IP:PORT` of the Pod's fma RPC port; nil without an IP or such a port.
    static func rpcAddress(of pod: Pod) -> RPCAddress? {
        guard let ip = pod.status.podIP, !ip.isEmpty, let port = rpcPort(of: pod) else { return nil }
        return .tcp(host: ip, port: port)
    }

    /// `http://IP:PORT` (IPv6 in brackets).
    static func httpBase(ip: String, port: Int) -> String {
        ip.contains(":") ? "http://[\(ip)]:\(port)" : "http://\(ip):\(port)"
    }

    /// The requester's SPI port: its `admin-port` annotation, else 8081.
    static func adminPort(of pod: Pod) -> Int {
        pod.metadata.annotation(DualPods.Annotation.adminPort).flatMap(Int.init) ?? DualPods.defaultAdminPort
    }
}
