public import FMAJSON

/// The fields a kind's objects have: what an API server prunes from a written object, or (with
/// `fieldValidation=Strict`, kubectl's default) rejects with "strict decoding error: unknown
/// field …", and what a strict decoder (FMA's for a direct-mode provider) refuses. The built-in
/// kinds' fields are generated from the Kubernetes API's models (`KubeFields+BuiltIn.swift`,
/// `scripts/gen-kube-fields.py`); FMA's three custom resources' are their CRDs' structural
/// schemas, below. Maps with free keys (labels, env_vars, allocatable resource names) and a
/// LauncherConfig's pod template (an ObjectMeta and a core/v1 PodSpec, preserved as given)
/// take any member.
public indirect enum KubeFields: Sendable {
    /// An object with these members.
    case object([String: KubeFields])
    /// An object whose every member (any name) is `KubeFields`.
    case map(KubeFields)
    /// A list whose every item is `KubeFields`.
    case list(KubeFields)
    /// A value of any shape, kept as it is (scalars, preserved subtrees).
    case any

    /// The fields of `kind`, or nil when they are not declared (every member is then known).
    public static func of(_ kind: ResourceKind) -> KubeFields? {
        switch kind {
        case .inferenceServerConfig: inferenceServerConfig
        case .launcherConfig: launcherConfig
        case .launcherPopulationPolicy: launcherPopulationPolicy
        default: builtIn[kind]
        }
    }

    /// What a strict decoder says of `value`'s unknown members, worded as Kubernetes' decoder
    /// words it (`strict decoding error: unknown field "spec.contianers"`), or nil when every
    /// member is known.
    public func strictDecodingError(_ value: JSONValue) -> String? {
        let problems = problems(in: value)
        return problems.isEmpty ? nil : Self.strictDecodingError(problems)
    }

    /// The strict decoder's error for these `problems` (from `problems(in:)`).
    public static func strictDecodingError(_ problems: [String]) -> String {
        "strict decoding error: " + problems.joined(separator: ", ")
    }

    /// `unknown field "PATH"` for each of `value`'s unknown members, in document order (an API
    /// server's warnings under `fieldValidation=Warn`).
    public func problems(in value: JSONValue) -> [String] {
        unknown(in: value).map { "unknown field \"\($0)\"" }
    }

    private static let stringMap = KubeFields.map(.any)
    private static let status = KubeFields.object(["observedGeneration": .any, "errors": .any])

    private static func resource(spec: KubeFields) -> KubeFields {
        .object(["apiVersion": .any, "kind": .any, "metadata": .any, "spec": spec, "status": status])
    }

    public static let inferenceServerConfig = resource(spec: .object([
        "launcherConfigName": .any,
        "modelServerConfig": .object(["port": .any, "options": .any, "env_vars": stringMap, "labels": stringMap, "annotations": stringMap]),
    ]))

    public static let launcherConfig = resource(spec: .object([
        "maxInstances": .any,
        "podTemplate": .object(["metadata": .any, "spec": .any]),
    ]))

    public static let launcherPopulationPolicy = resource(spec: .object([
        "enhancedNodeSelector": .object([
            "labelSelector": .object([
                "matchLabels": stringMap,
                "matchExpressions": .list(.object(["key": .any, "operator": .any, "values": .any])),
            ]),
            "allocatableResources": .map(.object(["min": .any, "max": .any])),
        ]),
        "countForLauncher": .list(.object(["launcherConfigName": .any, "launcherCount": .any])),
    ]))

    /// The paths of the members `value` has that these fields do not (`spec.modelServerConfig.prot`,
    /// `spec.countForLauncher[0].count`), in document order.
    public func unknown(in value: JSONValue, path: String = "") -> [String] {
        switch (self, value) {
        case (.object(let members), .object(let object)):
            return object.flatMap { key, member -> [String] in
                let here = path.isEmpty ? key : "\(path).\(key)"
                guard let fields = members[key] else { return [here] }
                return fields.unknown(in: member, path: here)
            }
        case (.map(let fields), .object(let object)):
            return object.flatMap { key, member in fields.unknown(in: member, path: path.isEmpty ? key : "\(path).\(key)") }
        case (.list(let fields), .array(let items)):
            return items.enumerated().flatMap { index, item in fields.unknown(in: item, path: "\(path)[\(index)]") }
        default:
            return []
        }
    }

    /// `value` without the members these fields do not have.
    public func pruned(_ value: JSONValue) -> JSONValue {
        switch (self, value) {
        case (.object(let members), .object(let object)):
            return .object(JSONObject(object.compactMap { key, member in members[key].map { (key, $0.pruned(member)) } }))
        case (.map(let fields), .object(let object)):
            return .object(JSONObject(object.map { ($0.key, fields.pruned($0.value)) }))
        case (.list(let fields), .array(let items)):
            return .array(items.map(fields.pruned))
        default:
            return value
        }
    }
}
