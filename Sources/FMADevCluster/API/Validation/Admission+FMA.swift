import FMAJSON
public import FMAKubeModel

extension Admission {
    /// fma-devcluster's admission: every kind's metadata checked as Kubernetes checks it; Pods
    /// and ReplicaSets checked for what their controllers need, Leases' spec field by field; FMA's three custom resources
    /// checked against their schemas (see `FMAValidation`).
    public static func fma(kinds: [ResourceKind] = ResourceKind.all) -> Admission {
        var validators: [ResourceKind: Validator] = [:]
        for kind in kinds {
            let specific: (@Sendable (JSONObject) -> FieldErrors)? = switch kind {
            case .pod: BuiltinValidation.pod
            case .replicaSet: BuiltinValidation.replicaSet
            case .lease: BuiltinValidation.lease
            case .secret: BuiltinValidation.secret
            case .inferenceServerConfig: FMAValidation.inferenceServerConfig
            case .launcherConfig: FMAValidation.launcherConfig
            case .launcherPopulationPolicy: FMAValidation.launcherPopulationPolicy
            default: nil
            }
            validators[kind] = { new, _ in
                var errors = BuiltinValidation.metadata(new, kind: kind)
                if let specific { errors.append(contentsOf: specific(new)) }
                return errors.causes
            }
        }
        return Admission(validators: validators)
    }
}
