import FMAHTTPServer
import FMAJSON

/// `SelfSubjectAccessReview` (`kubectl auth can-i`): the one bearer token may do everything,
/// so every review is allowed. The spec is echoed when the body is JSON; kubectl sends
/// protobuf, which is not read (the answer does not depend on it).
extension KubeAPI {
    func selfSubjectAccessReview(_ request: HTTPRequest) -> HTTPResponse {
        let spec = (try? decodeJSONBody(request))?["spec"] ?? .object([:])
        let review: JSONObject = [
            "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "metadata": .object([:]),
            "spec": spec,
            "status": ["allowed": true, "reason": "fma-devcluster's token is allowed every request"],
        ]
        return APIResponse.json(review, status: .created)
    }
}

/// `SelfSubjectReview` (`kubectl auth whoami`): who the one bearer token is.
extension KubeAPI {
    static let tokenUser = "fma-devcluster-admin"

    func selfSubjectReview() -> HTTPResponse {
        let review: JSONObject = [
            "kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1", "metadata": .object([:]),
            "status": ["userInfo": ["username": .string(Self.tokenUser), "groups": ["system:masters", "system:authenticated"]]],
        ]
        return APIResponse.json(review, status: .created)
    }
}
