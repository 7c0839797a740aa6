import Foundation

/// The kubeconfig fma-devcluster writes for its clients (kubectl, fma's own client): one
/// cluster with the server URL and the CA, one user with the bearer token, and the context
/// `fma-devcluster` (namespace `default`) as the current one.
public struct Kubeconfig: Sendable {
    public static let contextName = "fma-devcluster"

    public var server: String
    public var caCertificatePEM: String
    public var token: String
    public var namespace: String = "default"

    public init(server: String, caCertificatePEM: String, token: String) {
        self.server = server
        self.caCertificatePEM = caCertificatePEM
        self.token = token
    }

    /// The kubeconfig as YAML. Every value is a plain scalar that needs no quoting (a URL,
    /// base64, hex, names), quoted anyway where YAML could misread it.
    public var yaml: String {
        let ca = Data(caCertificatePEM.utf8).base64EncodedString()
        let name = Self.contextName
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: \(name)
              cluster:
                server: "\(server)"
                certificate-authority-data: \(ca)
            users:
            - name: \(name)
              user:
                token: "\(token)"
            contexts:
            - name: \(name)
              context:
                cluster: \(name)
                user: \(name)
                namespace: \(namespace)
            current-context: \(name)
            preferences: {}

            """
    }
}
