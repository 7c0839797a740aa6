import FMAHTTPServer
import FMAJSON
import FMAKubeModel
import Foundation

/// `POST …/serviceaccounts/NAME/token` (`kubectl create token NAME`): a token for the
/// ServiceAccount, valid for `spec.expirationSeconds` (default one hour, at least ten minutes,
/// at most a year, as a real API server bounds it) or until the account is deleted.
extension KubeAPI {
    static let defaultTokenSeconds: Int64 = 3600
    static let tokenSecondsRange: ClosedRange<Int64> = 600...(365 * 24 * 3600)

    func tokenRequest(namespace: String, name: String, _ request: HTTPRequest) throws(KubeStatus) -> HTTPResponse {
        let account = try store.get(.serviceAccount, namespace: namespace, name: name)
        let body = request.body.readableBytes == 0 ? [:] : try decodeJSONBody(request)
        let spec = body["spec"]?.object ?? [:]
        let seconds = spec["expirationSeconds"]?.int ?? Self.defaultTokenSeconds
        guard seconds >= Self.tokenSecondsRange.lowerBound else {
            throw KubeStatus(code: 422, reason: .invalid, message: "TokenRequest.authentication.k8s.io \"\(name)\" is invalid: spec.expirationSeconds: Invalid value: \(seconds): may not specify a duration less than 10 minutes",
                             details: ["name": .string(name), "group": "authentication.k8s.io", "kind": "TokenRequest",
                                       "causes": [["reason": "FieldValueInvalid", "field": "spec.expirationSeconds",
                                                   "message": .string("Invalid value: \(seconds): may not specify a duration less than 10 minutes")]]])
        }
        let granted = min(seconds, Self.tokenSecondsRange.upperBound)
        let (token, expires) = mintToken(for: account, seconds: granted)
        var responseSpec = spec
        responseSpec["expirationSeconds"] = .int(granted)
        if responseSpec["audiences"] == nil { responseSpec["audiences"] = ["https://kubernetes.default.svc"] }
        let review: JSONObject = [
            "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "creationTimestamp": .string(KubeTime.string(configuration.now()))],
            "spec": .object(responseSpec),
            "status": ["token": .string(token), "expirationTimestamp": .string(KubeTime.string(Date(timeIntervalSince1970: TimeInterval(expires))))],
        ]
        logger.info("token issued", metadata: ["serviceaccount": "\(namespace)/\(name)", "seconds": "\(granted)"])
        return APIResponse.json(review, status: .created)
    }
}

extension KubeAPI {
    /// The token the kubelet gives a pod of the ServiceAccount: valid for a year or until the
    /// account is deleted; nil when the account does not exist.
    public func serviceAccountToken(namespace: String, name: String) -> String? {
        guard let account = try? store.get(.serviceAccount, namespace: namespace, name: name) else { return nil }
        return mintToken(for: account, seconds: Self.tokenSecondsRange.upperBound).token
    }

    /// A token for the stored ServiceAccount, valid `seconds` from now; and when it expires.
    private func mintToken(for account: JSONObject, seconds: Int64) -> (token: String, expires: Int64) {
        let meta = ObjectMeta(json: account["metadata"]?.object ?? JSONObject())
        let expires = Int64(configuration.now().timeIntervalSince1970) + seconds
        return (authenticator.tokens.mint(.init(namespace: meta.namespace, name: meta.name, uid: meta.uid, expires: expires)), expires)
    }
}
