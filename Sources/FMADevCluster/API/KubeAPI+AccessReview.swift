import FMAHTTPServer
import FMAJSON
import FMAKubeModel

/// `SelfSubjectAccessReview` (`kubectl auth can-i`): whether the caller may do what the spec
/// names, answered by the same authorizer that guards every request. kubectl sends it as
/// protobuf, other clients as JSON; the answer is JSON either way.
extension KubeAPI {
    func selfSubjectAccessReview(_ request: HTTPRequest, user: UserInfo) throws(KubeStatus) -> HTTPResponse {
        let spec = (try decodeJSONBody(request))["spec"]?.object ?? [:]
        let asked: RequestAttributes
        if let resource = spec["resourceAttributes"] {
            asked = RequestAttributes(verb: resource["verb"]?.string ?? "", apiGroup: resource["group"]?.string ?? "",
                                      resource: resource["resource"]?.string ?? "", subresource: resource["subresource"]?.string ?? "",
                                      namespace: resource["namespace"]?.string ?? "", name: resource["name"]?.string ?? "")
        } else if let path = spec["nonResourceAttributes"] {
            asked = RequestAttributes(verb: path["verb"]?.string ?? "", path: path["path"]?.string ?? "")
        } else {
            throw .badRequest("SelfSubjectAccessReview: spec.resourceAttributes or spec.nonResourceAttributes must be given")
        }
        let allowed = authorizer.allows(user, asked)
        var status: JSONObject = ["allowed": .bool(allowed)]
        if allowed { status["reason"] = .string(user.isMaster ? "\(user.name) is in system:masters" : "allowed by RBAC") }
        let review: JSONObject = [
            "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "metadata": .object([:]),
            "spec": .object(spec), "status": .object(status),
        ]
        return APIResponse.json(review, status: .created)
    }
}

/// `SelfSubjectReview` (`kubectl auth whoami`): who the caller's token is.
extension KubeAPI {
    func selfSubjectReview(user: UserInfo) -> HTTPResponse {
        var userInfo: JSONObject = ["username": .string(user.name), "groups": .array(user.groups.map { .string($0) })]
        if !user.uid.isEmpty { userInfo["uid"] = .string(user.uid) }
        let review: JSONObject = [
            "kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1", "metadata": .object([:]),
            "status": ["userInfo": .object(userInfo)],
        ]
        return APIResponse.json(review, status: .created)
    }
}

/// `SelfSubjectRulesReview` (`kubectl auth can-i --list`): the rules that apply to the caller in
/// the spec's namespace, split into resource and non-resource rules.
extension KubeAPI {
    func selfSubjectRulesReview(_ request: HTTPRequest, user: UserInfo) throws(KubeStatus) -> HTTPResponse {
        let spec = (try decodeJSONBody(request))["spec"]?.object ?? [:]
        let rules = authorizer.rules(for: user, namespace: spec["namespace"]?.string ?? "")
        func pick(_ rule: JSONValue, _ keys: [String]) -> JSONValue {
            var picked = JSONObject()
            for key in keys { if let value = rule[key] { picked[key] = value } }
            return .object(picked)
        }
        let resourceRules = rules.filter { $0["nonResourceURLs"] == nil }.map { pick($0, ["verbs", "apiGroups", "resources", "resourceNames"]) }
        let nonResourceRules = rules.filter { $0["nonResourceURLs"] != nil }.map { pick($0, ["verbs", "nonResourceURLs"]) }
        let review: JSONObject = [
            "kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1", "metadata": .object([:]),
            "spec": .object(spec),
            "status": ["resourceRules": .array(resourceRules), "nonResourceRules": .array(nonResourceRules), "incomplete": false],
        ]
        return APIResponse.json(review, status: .created)
    }
}
