import FMAJSON
import FMAKubeModel

/// Kubernetes RBAC over the Roles, ClusterRoles and their bindings in the store: a request is
/// allowed when a rule of a role bound to its user (by name, by one of its groups, or as a
/// ServiceAccount) allows its verb on its resource — API group, resource or `resource/sub`
/// (`*` and `*/sub` as wildcards), `resourceNames`, and for RoleBindings the namespace — or on
/// its path (`nonResourceURLs`, a trailing `*` a prefix). `system:masters` (the admin
/// kubeconfig) may do everything; every authenticated user may read discovery, `/version`,
/// health and OpenAPI and review itself, as a real cluster's bootstrap roles
/// `system:discovery`, `system:public-info-viewer` and `system:basic-user` allow. ClusterRoles
/// are not aggregated (`aggregationRule` is stored and not acted on).
struct RBACAuthorizer: Sendable {
    let store: ObjectStore

    func allows(_ user: UserInfo, _ request: RequestAttributes) -> Bool {
        user.isMaster || findRule(for: user, namespace: request.namespace) { Self.rule($0, allows: request) }
    }

    /// Every rule that applies to the user in `namespace` (cluster-wide ones only when empty):
    /// the bootstrap rules, those of roles bound in the namespace and of ClusterRoles bound
    /// cluster-wide.
    func rules(for user: UserInfo, namespace: String) -> [JSONValue] {
        if user.isMaster { return Self.everything }
        var rules: [JSONValue] = []
        _ = findRule(for: user, namespace: namespace) { rules.append($0); return false }
        return rules
    }

    /// Goes through the rules that apply to the user in `namespace` (as `rules(for:)` lists
    /// them), cheapest first, until `found` says yes; whether it did. A request that the
    /// bootstrap rules or a RoleBinding allow reads no more bindings.
    private func findRule(for user: UserInfo, namespace: String, _ found: (JSONValue) -> Bool) -> Bool {
        if user.groups.contains("system:authenticated"), Self.bootstrapRules.contains(where: found) { return true }
        if !namespace.isEmpty {
            for binding in (try? store.list(.roleBinding, namespace: namespace).items) ?? []
            where Self.binds(binding, user, namespace: namespace) && rules(of: binding, namespace: namespace).contains(where: found) {
                return true
            }
        }
        for binding in (try? store.list(.clusterRoleBinding, namespace: nil).items) ?? []
        where Self.binds(binding, user, namespace: nil) && rules(of: binding, namespace: nil).contains(where: found) {
            return true
        }
        return false
    }

    /// What `system:masters` may do (as `cluster-admin`'s rules say it).
    static let everything: [JSONValue] = [
        ["verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]],
        ["verbs": ["*"], "nonResourceURLs": ["*"]],
    ]

    /// The rules of the role a binding refers to (none when it does not exist).
    private func rules(of binding: JSONObject, namespace: String?) -> [JSONValue] {
        guard let reference = binding["roleRef"], let name = reference["name"]?.string else { return [] }
        let role: JSONObject?
        switch reference["kind"]?.string {
        case "Role":
            guard let namespace else { return [] }  // a ClusterRoleBinding names ClusterRoles only
            role = try? store.get(.role, namespace: namespace, name: name)
        case "ClusterRole": role = try? store.get(.clusterRole, namespace: "", name: name)
        default: role = nil
        }
        return role?["rules"]?.array ?? []
    }

    /// Whether one of the binding's subjects is the user. A ServiceAccount subject without a
    /// namespace is in the RoleBinding's.
    static func binds(_ binding: JSONObject, _ user: UserInfo, namespace: String?) -> Bool {
        for subject in binding["subjects"]?.array ?? [] {
            guard let name = subject["name"]?.string else { continue }
            switch subject["kind"]?.string {
            case "User" where name == user.name: return true
            case "Group" where user.groups.contains(name): return true
            case "ServiceAccount":
                if let account = user.serviceAccount, account.name == name, account.namespace == (subject["namespace"]?.string ?? namespace) {
                    return true
                }
            default: continue
            }
        }
        return false
    }

    /// Whether a PolicyRule allows the request.
    static func rule(_ rule: JSONValue, allows request: RequestAttributes) -> Bool {
        func strings(_ key: String) -> [String] { rule[key]?.array?.compactMap(\.string) ?? [] }
        let verbs = strings("verbs")
        guard verbs.contains("*") || verbs.contains(request.verb) else { return false }
        guard request.isResourceRequest else {
            let path = request.path ?? ""
            return strings("nonResourceURLs").contains { $0 == "*" || $0 == path || ($0.hasSuffix("*") && path.hasPrefix($0.dropLast())) }
        }
        let groups = strings("apiGroups")
        guard groups.contains("*") || groups.contains(request.apiGroup) else { return false }
        let resource = request.qualifiedResource
        guard strings("resources").contains(where: {
            $0 == "*" || $0 == resource || (!request.subresource.isEmpty && $0 == "*/\(request.subresource)")
        }) else { return false }
        let names = strings("resourceNames")
        return names.isEmpty || (!request.name.isEmpty && names.contains(request.name))
    }

    /// What every authenticated user may do.
    static let bootstrapRules: [JSONValue] = [
        ["verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz",
                                               "/version", "/version/", "/openapi", "/openapi/*", "/"]],
        ["verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]],
        ["verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"]],
    ]

    /// The 403 a real API server answers, e.g. `pods "x" is forbidden: User "system:serviceaccount:default:fma-controller"
    /// cannot delete resource "pods" in API group "" in the namespace "default"`.
    static func forbidden(_ user: UserInfo, _ request: RequestAttributes) -> KubeStatus {
        guard request.isResourceRequest else {
            return KubeStatus(code: 403, reason: .forbidden, message: "forbidden: User \"\(user.name)\" cannot \(request.verb) path \"\(request.path ?? "")\"",
                              details: [:])
        }
        let scope = request.namespace.isEmpty ? "at the cluster scope" : "in the namespace \"\(request.namespace)\""
        let why = "User \"\(user.name)\" cannot \(request.verb) resource \"\(request.qualifiedResource)\" in API group \"\(request.apiGroup)\" \(scope)"
        let qualified = request.apiGroup.isEmpty ? request.resource : "\(request.resource).\(request.apiGroup)"
        let subject = request.name.isEmpty ? qualified : "\(qualified) \"\(request.name)\""
        var details: JSONObject = ["kind": .string(request.resource)]
        if !request.name.isEmpty { details["name"] = .string(request.name) }
        if !request.apiGroup.isEmpty { details["group"] = .string(request.apiGroup) }
        return KubeStatus(code: 403, reason: .forbidden, message: "\(subject) is forbidden: \(why)", details: details)
    }
}
