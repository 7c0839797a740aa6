import FMATestSupport
import Foundation
import Testing

/// RBAC as kubectl meets it on fma-devcluster: ServiceAccount tokens (`create token`), roles and
/// bindings made with `kubectl create` (protobuf bodies), `--token` and `--as`, `auth can-i`
/// (with `--list`) and `whoami`, and a real cluster's 401 and 403 messages.
@Suite("kubectl against fma-devcluster: RBAC", .enabled(if: KubectlCluster.kubectlInstalled, "kubectl is not installed at /usr/bin/kubectl (make setup installs Debian's kubernetes-client)"))
struct KubectlRBACTests {
    static let robot = "system:serviceaccount:default:robot"

    @Test("a ServiceAccount's token may do what its Role allows, and nothing else; --as acts as it; a deleted account's token is refused")
    func serviceAccountTokens() async throws {
        try await KubectlCluster.with { cluster in
            #expect(try await cluster.kubectl("create", "serviceaccount", "robot") == "serviceaccount/robot created")
            #expect(try await cluster.kubectl("create", "role", "reader", "--verb=get,list", "--resource=pods")
                == "role.rbac.authorization.k8s.io/reader created")
            #expect(try await cluster.kubectl("create", "role", "settings", "--verb=get", "--resource=configmaps", "--resource-name=settings")
                == "role.rbac.authorization.k8s.io/settings created")
            for role in ["reader", "settings"] {
                #expect(try await cluster.kubectl("create", "rolebinding", role, "--role=\(role)", "--serviceaccount=default:robot")
                    == "rolebinding.rbac.authorization.k8s.io/\(role) created")
            }
            let token = try await cluster.kubectl("create", "token", "robot")
            #expect(token.hasPrefix("fma-sa."))

            let whoami = try await cluster.kubectl("auth", "whoami", "--token", token)
            #expect(whoami.contains(Self.robot) && whoami.contains("system:serviceaccounts:default"), "\(whoami)")
            let configMap = try await cluster.run("get", "configmap", "settings", "--token", token)
            #expect(configMap.stderr.contains(#"configmaps "settings" not found"#), "allowed, then not found: \(configMap.stderr)")
            let secrets = try await cluster.run("get", "secrets", "--token", token)
            #expect(secrets.status != 0)
            #expect(secrets.stderr.contains(#"Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:default:robot" cannot list resource "secrets" in API group "" in the namespace "default""#),
                    "\(secrets.stderr)")
            let otherConfigMap = try await cluster.run("get", "configmap", "other", "--token", token)
            #expect(otherConfigMap.stderr.contains(#"configmaps "other" is forbidden"#), "resourceNames: \(otherConfigMap.stderr)")

            // The admin acts as the account with --as; can-i and can-i --list answer for it.
            #expect(try await cluster.kubectl("auth", "can-i", "list", "pods", "--as", Self.robot) == "yes")
            let delete = try await cluster.run("auth", "can-i", "delete", "pods", "--as", Self.robot)
            #expect(delete.status == 1 && delete.stdout.hasPrefix("no"))
            let rules = try await cluster.kubectl("auth", "can-i", "--list", "--as", Self.robot)
            #expect(rules.split(separator: "\n").contains { $0.hasPrefix("configmaps") && $0.contains("[settings]") && $0.contains("[get]") }, "\(rules)")
            // The account itself may not act as anyone else.
            let impersonating = try await cluster.run("get", "pods", "--token", token, "--as", "jane")
            #expect(impersonating.stderr.contains(#"users "jane" is forbidden: User "system:serviceaccount:default:robot" cannot impersonate resource "users""#),
                    "\(impersonating.stderr)")

            let short = try await cluster.run("create", "token", "robot", "--duration", "1m")
            #expect(short.stderr.contains("may not specify a duration less than 10 minutes"), "\(short.stderr)")

            // Deleted and made again: the old token was the old account's.
            _ = try await cluster.kubectl("delete", "serviceaccount", "robot")
            _ = try await cluster.kubectl("create", "serviceaccount", "robot")
            let refused = try await cluster.run("get", "pods", "--token", token)
            #expect(refused.status != 0 && refused.stderr.contains("Unauthorized"), "\(refused.stderr)")
        }
    }
}
