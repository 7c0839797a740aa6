import FMAJSON

/// The protobuf bodies of `kubectl auth can-i` and `kubectl create token`.
extension ProtobufBody {
    /// `spec` (2): `resourceAttributes` (1: namespace 1, verb 2, group 3, version 4, resource 5,
    /// subresource 6, name 7) or `nonResourceAttributes` (2: path 1, verb 2).
    static func selfSubjectAccessReview(_ bytes: ArraySlice<UInt8>) throws(ProtoReader.Malformed) -> JSONObject {
        var spec = JSONObject()
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            guard field == 2 else { continue }
            var inner = ProtoReader(try value.bytes())
            while let (member, attributes) = try inner.next() {
                switch member {
                case 1:
                    spec["resourceAttributes"] = .object(try strings(try attributes.bytes(), [
                        1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name",
                    ]))
                case 2: spec["nonResourceAttributes"] = .object(try strings(try attributes.bytes(), [1: "path", 2: "verb"]))
                default: break
                }
            }
        }
        return ["spec": .object(spec)]
    }

    /// `spec` (2): `namespace` (1).
    static func selfSubjectRulesReview(_ bytes: ArraySlice<UInt8>) throws(ProtoReader.Malformed) -> JSONObject {
        var spec = JSONObject()
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            if field == 2 { spec = try strings(try value.bytes(), [1: "namespace"]) }
        }
        return ["spec": .object(spec)]
    }

    /// `spec` (2): `audiences` (1, repeated) and `expirationSeconds` (4).
    static func tokenRequest(_ bytes: ArraySlice<UInt8>) throws(ProtoReader.Malformed) -> JSONObject {
        var spec = JSONObject()
        var audiences: [JSONValue] = []
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            guard field == 2 else { continue }
            var inner = ProtoReader(try value.bytes())
            while let (member, item) = try inner.next() {
                if member == 1 { audiences.append(.string(try item.string())) }
                if member == 4 { spec["expirationSeconds"] = .int(Int64(bitPattern: try item.varint())) }
            }
        }
        if !audiences.isEmpty { spec["audiences"] = .array(audiences) }
        return ["spec": .object(spec)]
    }
}
