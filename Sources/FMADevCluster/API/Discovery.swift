import FMAJSON
import FMAKubeModel

/// The discovery documents (`/api`, `/apis`, `/apis/GROUP`, the resource lists) and `/version`,
/// in the legacy (unaggregated) form: a client that asks for aggregated discovery
/// (`as=APIGroupDiscoveryList`) sees plain `application/json` and falls back to these, as
/// kubectl does.
struct Discovery: Sendable {
    let kinds: [ResourceKind]
    /// Kinds listed (read-only) so that clients get as far as asking, and answered with 503
    /// and what to do instead (`UnservedKinds`).
    var unserved: [ResourceKind] = []

    /// Every kind discovery lists.
    private var listed: [ResourceKind] { kinds + unserved }

    /// The Kubernetes version this server says it speaks (kubectl warns on a skew of more than
    /// one minor version).
    static let kubernetesVersion = (major: "1", minor: "32", git: "v1.32.0-fma")

    static let allVerbs: [JSONValue] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    static let subresourceVerbs: [JSONValue] = ["get", "patch", "update"]
    static let readVerbs: [JSONValue] = ["get", "list"]

    var version: JSONObject {
        [
            "major": .string(Self.kubernetesVersion.major), "minor": .string(Self.kubernetesVersion.minor),
            "gitVersion": .string(Self.kubernetesVersion.git), "gitCommit": "", "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z", "goVersion": "swift", "compiler": "swiftc", "platform": "linux/amd64",
        ]
    }

    /// `/api`.
    var coreVersions: JSONObject {
        ["kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []]
    }

    /// The groups other than the core group, in order of first appearance.
    private var groups: [(name: String, versions: [String])] {
        var result: [(String, [String])] = []
        for kind in listed where !kind.group.isEmpty {
            if let index = result.firstIndex(where: { $0.0 == kind.group }) {
                if !result[index].1.contains(kind.version) { result[index].1.append(kind.version) }
            } else {
                result.append((kind.group, [kind.version]))
            }
        }
        return result
    }

    private static func groupJSON(_ name: String, _ versions: [String]) -> JSONObject {
        let entries: [JSONValue] = versions.map { .object(["groupVersion": .string("\(name)/\($0)"), "version": .string($0)]) }
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": .array(entries),
                "preferredVersion": entries.first ?? .null]
    }

    /// `/apis`.
    var groupList: JSONObject {
        let groups: [JSONValue] = groups.map { group in
            var json = Self.groupJSON(group.name, group.versions)
            json["kind"] = nil
            json["apiVersion"] = nil
            return .object(json)
        }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]
    }

    /// `/apis/GROUP`; nil for a group not served.
    func group(_ name: String) -> JSONObject? {
        groups.first { $0.name == name }.map { Self.groupJSON($0.name, $0.versions) }
    }

    /// `/api/v1` or `/apis/GROUP/VERSION`.
    func resourceList(group: String, version: String) -> JSONObject {
        var resources: [JSONValue] = []
        for kind in listed where kind.group == group && kind.version == version {
            var entry: JSONObject = [
                "name": .string(kind.plural), "singularName": .string(kind.singular), "namespaced": .bool(kind.namespaced),
                "kind": .string(kind.kind), "verbs": .array(unserved.contains(kind) ? Self.readVerbs : Self.allVerbs),
            ]
            if !kind.shortNames.isEmpty { entry["shortNames"] = .array(kind.shortNames.map { .string($0) }) }
            if !kind.categories.isEmpty { entry["categories"] = .array(kind.categories.map { .string($0) }) }
            resources.append(.object(entry))
            for subresource in kind.subresources {
                var sub: JSONObject = [
                    "name": .string("\(kind.plural)/\(subresource)"), "singularName": "", "namespaced": .bool(kind.namespaced),
                    "kind": .string(kind.kind), "verbs": .array(Self.subresourceVerbs),
                ]
                if subresource == "scale" {
                    sub["group"] = "autoscaling"
                    sub["version"] = "v1"
                    sub["kind"] = "Scale"
                }
                resources.append(.object(sub))
            }
            if kind == .serviceAccount {
                resources.append(["name": "serviceaccounts/token", "singularName": "", "namespaced": true, "group": "authentication.k8s.io",
                                  "version": "v1", "kind": "TokenRequest", "verbs": ["create"]])
            }
        }
        let groupVersion = group.isEmpty ? version : "\(group)/\(version)"
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion), "resources": .array(resources)]
    }

    /// Whether `group`/`version` is served.
    func serves(group: String, version: String) -> Bool {
        kinds.contains { $0.group == group && $0.version == version }
    }

    /// The group versions served, core first, as OpenAPI v3 names them (`api/v1`, `apis/G/V`).
    var openAPIGroupVersions: [(group: String, version: String)] {
        var result: [(String, String)] = []
        for kind in kinds where !result.contains(where: { $0.0 == kind.group && $0.1 == kind.version }) {
            result.append((kind.group, kind.version))
        }
        return result.sorted { ($0.0.isEmpty ? 0 : 1, $0.0) < ($1.0.isEmpty ? 0 : 1, $1.0) }
    }
}
