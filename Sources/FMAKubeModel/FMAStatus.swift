public import FMAJSON

/// The `status` of FMA's custom resources: the generation a controller last looked at and
/// the problems it found there (written only through the status subresource).
public struct FMAStatus: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public var observedGeneration: Int64? {
        get { json.int("observedGeneration") }
        set { json.setInt("observedGeneration", newValue) }
    }

    public var errors: [String] {
        get { json.strings("errors") }
        set { json.setStrings("errors", newValue) }
    }
}
