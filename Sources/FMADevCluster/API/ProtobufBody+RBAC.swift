import FMAJSON

/// The protobuf bodies of `kubectl create role|clusterrole|rolebinding|clusterrolebinding`.
extension ProtobufBody {
    /// Role and ClusterRole: metadata 1, rules 2 (PolicyRule: verbs 1, apiGroups 2, resources 3,
    /// resourceNames 4, nonResourceURLs 5). A ClusterRole's aggregationRule (3) is not read.
    static func role(_ bytes: ArraySlice<UInt8>) throws(ProtoReader.Malformed) -> JSONObject {
        var object = JSONObject()
        var rules: [JSONValue] = []
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case 1: object["metadata"] = .object(try objectMeta(try value.bytes()))
            case 2:
                var rule = JSONObject()
                let names = [1: "verbs", 2: "apiGroups", 3: "resources", 4: "resourceNames", 5: "nonResourceURLs"]
                var inner = ProtoReader(try value.bytes())
                while let (member, item) = try inner.next() {
                    guard let name = names[member] else { continue }
                    rule[name] = .array((rule[name]?.array ?? []) + [.string(try item.string())])
                }
                rules.append(.object(rule))
            default: break
            }
        }
        object["rules"] = .array(rules)
        return object
    }

    /// RoleBinding and ClusterRoleBinding: metadata 1, subjects 2 (kind 1, apiGroup 2, name 3,
    /// namespace 4), roleRef 3 (apiGroup 1, kind 2, name 3).
    static func roleBinding(_ bytes: ArraySlice<UInt8>) throws(ProtoReader.Malformed) -> JSONObject {
        var object = JSONObject()
        var subjects: [JSONValue] = []
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case 1: object["metadata"] = .object(try objectMeta(try value.bytes()))
            case 2: subjects.append(.object(try strings(try value.bytes(), [1: "kind", 2: "apiGroup", 3: "name", 4: "namespace"])))
            case 3: object["roleRef"] = .object(try strings(try value.bytes(), [1: "apiGroup", 2: "kind", 3: "name"]))
            default: break
            }
        }
        if !subjects.isEmpty { object["subjects"] = .array(subjects) }
        return object
    }
}
