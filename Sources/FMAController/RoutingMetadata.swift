/// Checks an InferenceServerConfig's routing labels and annotations against the launcher Pod
/// they are to be written on (FMA's rules): valid keys and label values, no reserved prefix,
/// no collision with what the Pod already has.
enum RoutingMetadata {
    /// Problems, each naming the key or value; empty when the metadata may be written.
    static func problems(labels: [String: String], annotations: [String: String],
                         podLabels: [String: String], podAnnotations: [String: String]) -> [String] {
        var problems: [String] = []
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            problems += keyProblems(key, kind: "label", existing: podLabels, value: value)
            if let reason = labelValueProblem(value) {
                problems.append("ISC label value \"\(value)\" for key \"\(key)\" is not valid: \(reason)")
            }
        }
        for (key, value) in annotations.sorted(by: { $0.key < $1.key }) {
            problems += keyProblems(key, kind: "annotation", existing: podAnnotations, value: value)
        }
        return problems
    }

    private static func keyProblems(_ key: String, kind: String, existing: [String: String], value: String) -> [String] {
        if let reason = qualifiedNameProblem(key) {
            return ["ISC \(kind) key \"\(key)\" is not a valid qualified name: \(reason)"]
        }
        if DualPods.reservedPrefixes.contains(where: { key.hasPrefix($0) }) {
            return ["ISC \(kind) key \"\(key)\" uses a reserved prefix"]
        }
        if let present = existing[key], present != value {
            return ["ISC \(kind) key \"\(key)\" collides with existing pod \(kind)"]
        }
        return []
    }

    /// Kubernetes' qualified name: an optional DNS-subdomain prefix and `/`, then a name of at
    /// most 63 alphanumerics, `-`, `_`, `.`, beginning and ending with an alphanumeric.
    static func qualifiedNameProblem(_ key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return "a qualified name has at most one '/'" }
        if parts.count == 2 {
            let prefix = parts[0]
            guard !prefix.isEmpty, prefix.count <= 253,
                  prefix.wholeMatch(of: /[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/) != nil else {
                return "the prefix must be a DNS subdomain (lower-case alphanumerics, '-' and '.', at most 253 characters)"
            }
        }
        let name = parts.last ?? ""
        guard !name.isEmpty, name.count <= 63, name.wholeMatch(of: /[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?/) != nil else {
            return "the name must be 1 to 63 alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric"
        }
        return nil
    }

    /// Kubernetes' label value: empty, or at most 63 characters as a qualified name's name part.
    static func labelValueProblem(_ value: String) -> String? {
        guard !value.isEmpty else { return nil }
        guard value.count <= 63, value.wholeMatch(of: /[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?/) != nil else {
            return "a label value must be at most 63 alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric"
        }
        return nil
    }
}
