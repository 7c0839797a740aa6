import FMAKubeModel
import NIOHTTP1

/// Impersonation (`kubectl --as USER --as-group GROUP`, the `Impersonate-User`,
/// `Impersonate-Group` and `Impersonate-Uid` headers): the request is made as that user when the
/// caller may `impersonate` it — users, groups, and ServiceAccounts (a name
/// `system:serviceaccount:NS:NAME`, which gets an account's groups) — as RBAC says; the admin
/// may impersonate anyone. Otherwise a 403 names what could not be impersonated.
extension KubeAPI {
    func impersonation(of caller: UserInfo, _ headers: HTTPHeaders) throws(KubeStatus) -> UserInfo {
        let groups = headers[canonicalForm: "Impersonate-Group"].map(String.init)
        guard let name = headers.first(name: "Impersonate-User") else {
            guard groups.isEmpty else { throw .badRequest("Impersonate-Group is given without Impersonate-User: say which user to act as (kubectl --as)") }
            return caller
        }
        var user: UserInfo
        var checks: [RequestAttributes]
        let probe = UserInfo(name: name, groups: [])
        if let account = probe.serviceAccount {
            user = .serviceAccount(namespace: account.namespace, name: account.name, uid: "")
            checks = [RequestAttributes(verb: "impersonate", resource: "serviceaccounts", namespace: account.namespace, name: account.name)]
            if !groups.isEmpty { user.groups = groups }
        } else {
            user = UserInfo(name: name, groups: groups)
            checks = [RequestAttributes(verb: "impersonate", resource: "users", name: name)]
        }
        checks += groups.map { RequestAttributes(verb: "impersonate", resource: "groups", name: $0) }
        if let uid = headers.first(name: "Impersonate-Uid") {
            user.uid = uid
            checks.append(RequestAttributes(verb: "impersonate", apiGroup: "authentication.k8s.io", resource: "uids", name: uid))
        }
        for check in checks where !authorizer.allows(caller, check) {
            throw RBACAuthorizer.forbidden(caller, check)
        }
        if !user.groups.contains("system:authenticated") { user.groups.append("system:authenticated") }
        return user
    }
}
