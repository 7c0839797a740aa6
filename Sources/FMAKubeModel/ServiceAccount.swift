public import FMAJSON

/// A core/v1 ServiceAccount: the identity a Pod runs as (`spec.serviceAccountName`).
/// `secrets`, `imagePullSecrets` and `automountServiceAccountToken` stay in `json`.
public struct ServiceAccount: KubeObject {
    public static var resourceKind: ResourceKind { .serviceAccount }
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }
}
