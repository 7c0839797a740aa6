import FMAJSON
import FMAKubeModel

/// The fields FMA's three custom resources have, as their CRDs' structural schemas declare them:
/// what an API server prunes from a written object, or (with `fieldValidation=Strict`, kubectl's
/// default) rejects with "strict decoding error: unknown field …". Maps with free keys (labels,
/// env_vars, allocatable resource names) and a LauncherConfig's pod template (an ObjectMeta and
/// a core/v1 PodSpec, preserved as given) take any member.
indirect enum FMAFields: Sendable {
    /// An object with these members.
    case object([String: FMAFields])
    /// An object whose every member (any name) is `FMAFields`.
    case map(FMAFields)
    /// A list whose every item is `FMAFields`.
    case list(FMAFields)
    /// A value of any shape, kept as it is (scalars, preserved subtrees).
    case any

    /// The fields of `kind`, or nil when it is not one of FMA's.
    static func of(_ kind: ResourceKind) -> FMAFields? {
        switch kind {
        case .inferenceServerConfig: inferenceServerConfig
        case .launcherConfig: launcherConfig
        case .launcherPopulationPolicy: launcherPopulationPolicy
        default: nil
        }
    }

    private static let stringMap = FMAFields.map(.any)
    private static let status = FMAFields.object(["observedGeneration": .any, "errors": .any])

    private static func resource(spec: FMAFields) -> FMAFields {
        .object(["apiVersion": .any, "kind": .any, "metadata": .any, "spec": spec, "status": status])
    }

    static let inferenceServerConfig = resource(spec: .object([
        "launcherConfigName": .any,
        "modelServerConfig": .object(["port": .any, "options": .any, "env_vars": stringMap, "labels": stringMap, "annotations": stringMap]),
    ]))

    static let launcherConfig = resource(spec: .object([
        "maxInstances": .any,
        "podTemplate": .object(["metadata": .any, "spec": .any]),
    ]))

    static let launcherPopulationPolicy = resource(spec: .object([
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
    func unknown(in value: JSONValue, path: String = "") -> [String] {
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
    func pruned(_ value: JSONValue) -> JSONValue {
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
