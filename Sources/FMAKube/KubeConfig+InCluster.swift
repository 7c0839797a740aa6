import FMAHTTPClient
import Foundation

extension KubeConfig {
    /// Where a Pod's service account is mounted.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The configuration inside a Pod: the API server from `KUBERNETES_SERVICE_HOST` and
    /// `KUBERNETES_SERVICE_PORT` (an IPv6 address is bracketed), trusting `ca.crt`, with the
    /// `token` file read on every request (the kubelet rotates it), in the namespace of the
    /// `namespace` file (`default` without one).
    ///
    /// `environment` and `serviceAccountDirectory` are parameters so tests need no Pod.
    public static func inCluster(
        environment: [String: String]? = nil,
        serviceAccountDirectory: String = KubeConfig.serviceAccountDirectory
    ) throws(KubeConfigError) -> KubeConfig {
        let environment = environment ?? ProcessInfo.processInfo.environment
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw KubeConfigError("in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (not running in a Pod?)")
        }
        guard let portNumber = Int(port), (1...65535).contains(portNumber) else {
            throw KubeConfigError("in-cluster: KUBERNETES_SERVICE_PORT \"\(port)\" is not a port number")
        }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let tokenPath = serviceAccountDirectory + "/token"
        let caPath = serviceAccountDirectory + "/ca.crt"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw KubeConfigError("in-cluster: the service account token \(tokenPath) is missing or unreadable")
        }
        guard FileManager.default.isReadableFile(atPath: caPath) else {
            throw KubeConfigError("in-cluster: the service account CA \(caPath) is missing or unreadable")
        }
        let namespaceText = (try? String(contentsOfFile: serviceAccountDirectory + "/namespace", encoding: .utf8)) ?? ""
        let namespace = namespaceText.trimmingCharacters(in: .whitespacesAndNewlines)
        return KubeConfig(
            server: "https://\(hostPart):\(portNumber)",
            tls: HTTPClient.TLS(trustRoots: .file(caPath)),
            token: .file(tokenPath),
            namespace: namespace.isEmpty ? "default" : namespace,
            source: "in-cluster"
        )
    }
}
