public import FMAJSON
public import Foundation

/// A core/v1 Secret. `data` holds each value base64-encoded, as on the wire; `stringData`
/// (write-only plain text) is folded into `data` by the API server on every write.
public struct Secret: KubeObject {
    public static var resourceKind: ResourceKind { .secret }
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    /// `Opaque`, `kubernetes.io/tls`, …; the server fills in `Opaque` when none is given.
    public var type: String? {
        get { json.string("type") }
        set { json.setString("type", newValue) }
    }

    /// The values, decoded from base64 (a value that is not base64 is left out).
    public var data: [String: Data] {
        get { json.stringMap("data").compactMapValues { Data(base64Encoded: $0) } }
        set { json.setStringMap("data", newValue.mapValues { $0.base64EncodedString() }) }
    }

    /// Plain-text values to write; the server moves them into `data`.
    public var stringData: [String: String] {
        get { json.stringMap("stringData") }
        set { json.setStringMap("stringData", newValue) }
    }
}
