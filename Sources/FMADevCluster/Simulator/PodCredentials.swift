import FMAJSON
import FMAKubeModel
import Foundation

/// How pods reach the API server: its URL (known once it is bound), its CA, and tokens for
/// ServiceAccounts. Set by whatever runs the API server beside the simulator.
public struct PodAPIAccess: Sendable {
    public var url: @Sendable () -> String?
    public var caCertificatePEM: String
    /// A token for the ServiceAccount NAMESPACE/NAME, nil when it does not exist.
    public var token: @Sendable (_ namespace: String, _ name: String) -> String?

    public init(url: @escaping @Sendable () -> String?, caCertificatePEM: String,
                token: @escaping @Sendable (_ namespace: String, _ name: String) -> String?) {
        self.url = url
        self.caCertificatePEM = caCertificatePEM
        self.token = token
    }
}

/// A pod's own API credentials, as a kubelet mounts them: its ServiceAccount's token, the
/// cluster's CA and its namespace, written to `POD/serviceaccount/` and standing for
/// `/var/run/secrets/kubernetes.io/serviceaccount` (arguments naming that path are rewritten,
/// as for other volumes); `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` name the API
/// server. Pods share this machine's filesystem, so the fixed path cannot hold each pod's own
/// token: a kubeconfig with the same token is written beside it and named by `KUBECONFIG`
/// (unless the container sets that itself), which kubectl, client-go's and the official Python
/// client's default loading and fma's own clients read first. None when the pod or its account
/// says `automountServiceAccountToken: false`, or its account does not exist.
struct PodCredentials {
    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

    let directory: String
    let host: String
    let port: String

    init?(podSpec: PodSpec, namespace: String, podDirectory: String, access: PodAPIAccess?, store: ObjectStore) {
        guard let access, let url = access.url().flatMap(URLComponents.init(string:)), let host = url.host, let port = url.port else { return nil }
        let accountName = podSpec.json["serviceAccountName"]?.string ?? "default"
        guard let account = try? store.get(.serviceAccount, namespace: namespace, name: accountName),
              (podSpec.json["automountServiceAccountToken"]?.bool ?? account["automountServiceAccountToken"]?.bool ?? true),
              let token = access.token(namespace, accountName)
        else { return nil }
        directory = podDirectory + "/serviceaccount"
        self.host = host
        self.port = String(port)
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let kubeconfig = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: in-cluster
              cluster: {server: "https://\(host):\(port)", certificate-authority: "\(directory)/ca.crt"}
            users:
            - name: \(namespace)-\(accountName)
              user: {tokenFile: "\(directory)/token"}
            contexts:
            - name: in-cluster
              context: {cluster: in-cluster, user: \(namespace)-\(accountName), namespace: \(namespace)}
            current-context: in-cluster

            """
        for (name, text) in [("token", token), ("ca.crt", access.caCertificatePEM), ("namespace", namespace), ("kubeconfig", kubeconfig)] {
            try? DevCluster.write(text, to: "\(directory)/\(name)", mode: 0o644)
        }
    }

    /// The variables a container gets (`KUBECONFIG` only when it does not set one).
    func environment(containerSets names: Set<String>) -> [String: String] {
        var variables = ["KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port, "KUBERNETES_SERVICE_PORT_HTTPS": port]
        if !names.contains("KUBECONFIG") { variables["KUBECONFIG"] = directory + "/kubeconfig" }
        return variables
    }
}
