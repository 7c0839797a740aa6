/// Who made a request, as the authorizer and `kubectl auth whoami` see it.
struct UserInfo: Sendable, Equatable {
    var name: String
    var uid: String = ""
    var groups: [String]

    /// The admin kubeconfig's user: in `system:masters`, allowed everything.
    static let admin = UserInfo(name: "fma-devcluster-admin", groups: ["system:masters", "system:authenticated"])

    /// A ServiceAccount's user, with the groups a real API server gives it.
    static func serviceAccount(namespace: String, name: String, uid: String) -> UserInfo {
        UserInfo(name: "system:serviceaccount:\(namespace):\(name)", uid: uid,
                 groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", "system:authenticated"])
    }

    /// The ServiceAccount this user is, if it is one.
    var serviceAccount: (namespace: String, name: String)? {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount" else { return nil }
        return (String(parts[2]), String(parts[3]))
    }

    var isMaster: Bool { groups.contains("system:masters") }
}
