/// Why a cluster configuration could not be loaded. The message names the file (or
/// "in-cluster") and the field, e.g.
/// `/home/me/.kube/config: users[alice].user.client-certificate: no such file /home/me/.kube/alice.crt`.
public struct KubeConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
