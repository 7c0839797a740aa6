@testable import FMADevCluster
import FMAJSON
import FMAKubeModel
import Testing

/// RBAC as Kubernetes documents it, over a store holding Roles, ClusterRoles and bindings.
@Suite("API server: RBAC")
struct RBACAuthorizerTests {
    static let robot = UserInfo.serviceAccount(namespace: "team", name: "robot", uid: "u1")

    /// A store with: Role `reader` in `team` (get/list/watch pods; patch pods/status; get the
    /// ConfigMap `settings` only; everything on fma.llm-d.ai `*/status`), bound to the robot;
    /// ClusterRole `nodes` (list nodes; get `/metrics`) bound to the group system:serviceaccounts:team.
    static func store() throws -> ObjectStore {
        let store = ObjectStore()
        _ = try store.create(.namespace, namespace: "", ["metadata": ["name": "team"]])
        _ = try store.create(.role, namespace: "team", [
            "metadata": ["name": "reader"],
            "rules": [
                ["apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]],
                ["apiGroups": [""], "resources": ["pods/status"], "verbs": ["patch"]],
                ["apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["settings"], "verbs": ["get"]],
                ["apiGroups": ["fma.llm-d.ai"], "resources": ["*/status"], "verbs": ["*"]],
            ],
        ])
        _ = try store.create(.roleBinding, namespace: "team", [
            "metadata": ["name": "reader"],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"],
            "subjects": [["kind": "ServiceAccount", "name": "robot"]],
        ])
        _ = try store.create(.clusterRole, namespace: "", [
            "metadata": ["name": "nodes"],
            "rules": [["apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]], ["nonResourceURLs": ["/metrics"], "verbs": ["get"]]],
        ])
        _ = try store.create(.clusterRoleBinding, namespace: "", [
            "metadata": ["name": "nodes"],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "nodes"],
            "subjects": [["kind": "Group", "name": "system:serviceaccounts:team"]],
        ])
        return store
    }

    @Test("verbs, API groups, resources and subresources, resourceNames, namespaces and paths", arguments: [
        (RequestAttributes(verb: "get", resource: "pods", namespace: "team", name: "p"), true),
        (RequestAttributes(verb: "watch", resource: "pods", namespace: "team"), true),
        (RequestAttributes(verb: "delete", resource: "pods", namespace: "team", name: "p"), false),
        (RequestAttributes(verb: "get", resource: "pods", namespace: "other", name: "p"), false),
        (RequestAttributes(verb: "get", apiGroup: "apps", resource: "pods", namespace: "team", name: "p"), false),
        (RequestAttributes(verb: "patch", resource: "pods", subresource: "status", namespace: "team", name: "p"), true),
        (RequestAttributes(verb: "patch", resource: "pods", namespace: "team", name: "p"), false),
        (RequestAttributes(verb: "get", resource: "pods", subresource: "log", namespace: "team", name: "p"), false),
        (RequestAttributes(verb: "get", resource: "configmaps", namespace: "team", name: "settings"), true),
        (RequestAttributes(verb: "get", resource: "configmaps", namespace: "team", name: "secrets-too"), false),
        (RequestAttributes(verb: "list", resource: "configmaps", namespace: "team"), false),
        (RequestAttributes(verb: "update", apiGroup: "fma.llm-d.ai", resource: "launcherconfigs", subresource: "status", namespace: "team", name: "l"), true),
        (RequestAttributes(verb: "update", apiGroup: "fma.llm-d.ai", resource: "launcherconfigs", namespace: "team", name: "l"), false),
        (RequestAttributes(verb: "list", resource: "nodes"), true),
        (RequestAttributes(verb: "get", resource: "nodes", name: "n"), false),
        (RequestAttributes(verb: "get", path: "/metrics"), true),
        (RequestAttributes(verb: "get", path: "/metrics/extra"), false),
        (RequestAttributes(verb: "get", path: "/apis/apps/v1"), true),
        (RequestAttributes(verb: "get", path: "/version"), true),
        (RequestAttributes(verb: "create", apiGroup: "authorization.k8s.io", resource: "selfsubjectaccessreviews"), true),
    ] as [(RequestAttributes, Bool)])
    func decisions(request: RequestAttributes, allowed: Bool) throws {
        let authorizer = RBACAuthorizer(store: try Self.store())
        #expect(authorizer.allows(Self.robot, request) == allowed)
        #expect(authorizer.allows(.admin, request), "system:masters may do everything")
    }

    @Test("a binding counts for the account it names only: another account, another namespace's account of that name, a missing role")
    func subjects() throws {
        let store = try Self.store()
        let authorizer = RBACAuthorizer(store: store)
        let getPod = RequestAttributes(verb: "get", resource: "pods", namespace: "team", name: "p")
        #expect(!authorizer.allows(.serviceAccount(namespace: "team", name: "other", uid: "u2"), getPod))
        #expect(!authorizer.allows(.serviceAccount(namespace: "elsewhere", name: "robot", uid: "u3"), getPod))
        #expect(!authorizer.allows(UserInfo(name: "robot", groups: ["system:authenticated"]), getPod))
        _ = try store.delete(.role, namespace: "team", name: "reader")
        #expect(!authorizer.allows(Self.robot, getPod), "the binding's role is gone")
    }

    @Test("the 403 reads as a real API server's")
    func forbiddenMessages() {
        let user = UserInfo.serviceAccount(namespace: "default", name: "fma-controller", uid: "")
        #expect(RBACAuthorizer.forbidden(user, RequestAttributes(verb: "list", resource: "pods", namespace: "default")).message
            == #"pods is forbidden: User "system:serviceaccount:default:fma-controller" cannot list resource "pods" in API group "" in the namespace "default""#)
        let status = RBACAuthorizer.forbidden(user, RequestAttributes(verb: "delete", apiGroup: "apps", resource: "deployments", namespace: "default", name: "web"))
        #expect(status.code == 403 && status.reason == .forbidden)
        #expect(status.message == #"deployments.apps "web" is forbidden: User "system:serviceaccount:default:fma-controller" cannot delete resource "deployments" in API group "apps" in the namespace "default""#)
        #expect(status.details?["name"]?.string == "web" && status.details?["kind"]?.string == "deployments" && status.details?["group"]?.string == "apps")
        #expect(RBACAuthorizer.forbidden(user, RequestAttributes(verb: "patch", resource: "pods", subresource: "status", namespace: "default", name: "p")).message
            == #"pods "p" is forbidden: User "system:serviceaccount:default:fma-controller" cannot patch resource "pods/status" in API group "" in the namespace "default""#)
        #expect(RBACAuthorizer.forbidden(user, RequestAttributes(verb: "list", resource: "nodes")).message
            == #"nodes is forbidden: User "system:serviceaccount:default:fma-controller" cannot list resource "nodes" in API group "" at the cluster scope"#)
        #expect(RBACAuthorizer.forbidden(user, RequestAttributes(verb: "get", path: "/metrics")).message
            == #"forbidden: User "system:serviceaccount:default:fma-controller" cannot get path "/metrics""#)
    }
}
