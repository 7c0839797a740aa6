import FMAJSON
import FMAKubeModel

/// The schemas of FMA's three custom resources (`fma.llm-d.ai/v1alpha1`), as their CRDs make
/// the API server enforce them: required fields, types, ranges, valid routing labels, and a
/// LauncherPopulationPolicy's `countForLauncher` keyed by `launcherConfigName` (a name listed
/// twice is rejected).
enum FMAValidation {
    /// Key prefixes an InferenceServerConfig may not set on launcher Pods.
    static let reservedPrefixes = ["dual-pods.llm-d.ai/", "kubernetes.io/", "k8s.io/"]

    /// InferenceServerConfig: `spec.modelServerConfig` with `port` 1…65535, optional
    /// `options` (string), `env_vars`, `labels`, `annotations` (string maps; label keys and
    /// values valid, no reserved prefixes); `spec.launcherConfigName` required.
    static func inferenceServerConfig(_ object: JSONObject) -> FieldErrors {
        var errors = FieldErrors()
        guard let spec = errors.object(object["spec"], "spec", required: true) else { return errors }
        if let config = errors.object(spec["modelServerConfig"], "spec.modelServerConfig", required: true) {
            let base = "spec.modelServerConfig"
            _ = errors.integer(config["port"], "\(base).port", required: true, in: 1...65535)
            _ = errors.string(config["options"], "\(base).options", required: false)
            _ = errors.stringMap(config["env_vars"], "\(base).env_vars")
            errors.labels(config["labels"], "\(base).labels")
            errors.annotations(config["annotations"], "\(base).annotations")
            for field in ["labels", "annotations"] {
                for key in config[field]?.object?.keys ?? [] where isReserved(key) {
                    errors.invalid("\(base).\(field)", .string(key), "the prefixes \(reservedPrefixes.joined(separator: ", ")) are reserved")
                }
            }
        }
        if let name = errors.string(spec["launcherConfigName"], "spec.launcherConfigName", required: true),
           let problem = NameRules.dns1123Subdomain(name) {
            errors.invalid("spec.launcherConfigName", .string(name), problem)
        }
        errors.append(contentsOf: status(object))
        return errors
    }

    /// LauncherConfig: `spec.maxInstances` ≥ 1 (int32) required; `spec.podTemplate`, when
    /// given, an object whose `metadata` maps are valid and whose `spec` has `containers`, each
    /// with a name.
    static func launcherConfig(_ object: JSONObject) -> FieldErrors {
        var errors = FieldErrors()
        guard let spec = errors.object(object["spec"], "spec", required: true) else { return errors }
        _ = errors.integer(spec["maxInstances"], "spec.maxInstances", required: true, in: 1...Int64.int32Max)
        if let template = errors.object(spec["podTemplate"], "spec.podTemplate", required: false) {
            if let metadata = errors.object(template["metadata"], "spec.podTemplate.metadata", required: false) {
                errors.labels(metadata["labels"], "spec.podTemplate.metadata.labels")
                errors.annotations(metadata["annotations"], "spec.podTemplate.metadata.annotations")
            }
            if let podSpec = errors.object(template["spec"], "spec.podTemplate.spec", required: false) {
                if let value = podSpec["containers"], !value.isNull {
                    if let containers = value.array {
                        for (index, container) in containers.enumerated() {
                            let path = "spec.podTemplate.spec.containers[\(index)]"
                            guard let container = errors.object(container, path, required: true) else { continue }
                            _ = errors.string(container["name"], "\(path).name", required: true)
                        }
                    } else {
                        errors.invalid("spec.podTemplate.spec.containers", value, "must be of type array")
                    }
                } else {
                    errors.required("spec.podTemplate.spec.containers")
                }
            }
        }
        errors.append(contentsOf: status(object))
        return errors
    }

    /// LauncherPopulationPolicy: `spec.enhancedNodeSelector.labelSelector` (a valid
    /// metav1.LabelSelector) required, `allocatableResources` ranges of quantities, and
    /// `spec.countForLauncher`, a list of `{launcherConfigName, launcherCount ≥ 0}` with each
    /// name at most once.
    static func launcherPopulationPolicy(_ object: JSONObject) -> FieldErrors {
        var errors = FieldErrors()
        guard let spec = errors.object(object["spec"], "spec", required: true) else { return errors }
        if let selector = errors.object(spec["enhancedNodeSelector"], "spec.enhancedNodeSelector", required: true) {
            let base = "spec.enhancedNodeSelector"
            if let labelSelector = selector["labelSelector"], !labelSelector.isNull {
                do { _ = try LabelSelector(object: labelSelector) } catch {
                    errors.invalid("\(base).labelSelector", labelSelector, error.message)
                }
            } else {
                errors.required("\(base).labelSelector")
            }
            if let resources = errors.object(selector["allocatableResources"], "\(base).allocatableResources", required: false) {
                for (resource, range) in resources {
                    let path = "\(base).allocatableResources[\(resource)]"
                    guard let range = errors.object(range, path, required: true) else { continue }
                    for bound in ["min", "max"] {
                        guard let value = range[bound], !value.isNull else { continue }
                        if !Quantity.isValid(value) {
                            errors.invalid("\(path).\(bound)", value, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
                        }
                    }
                }
            }
        }
        if let value = spec["countForLauncher"], !value.isNull {
            if let entries = value.array {
                var seen: Set<String> = []
                for (index, entry) in entries.enumerated() {
                    let path = "spec.countForLauncher[\(index)]"
                    guard let entry = errors.object(entry, path, required: true) else { continue }
                    if let name = errors.string(entry["launcherConfigName"], "\(path).launcherConfigName", required: true),
                       !seen.insert(name).inserted {
                        errors.duplicate(path, ["launcherConfigName": .string(name)])
                    }
                    _ = errors.integer(entry["launcherCount"], "\(path).launcherCount", required: true, in: 0...Int64.int32Max)
                }
            } else {
                errors.invalid("spec.countForLauncher", value, "must be of type array")
            }
        } else {
            errors.required("spec.countForLauncher")
        }
        errors.append(contentsOf: status(object))
        return errors
    }

    /// The status all three share: `observedGeneration` (integer), `errors` (strings).
    static func status(_ object: JSONObject) -> FieldErrors {
        var errors = FieldErrors()
        guard let status = errors.object(object["status"], "status", required: false) else { return errors }
        _ = errors.integer(status["observedGeneration"], "status.observedGeneration", required: false, in: 0...Int64.max)
        if let list = status["errors"], !list.isNull {
            if let items = list.array {
                for (index, item) in items.enumerated() where item.string == nil {
                    errors.invalid("status.errors[\(index)]", item, "must be of type string")
                }
            } else {
                errors.invalid("status.errors", list, "must be of type array")
            }
        }
        return errors
    }

    private static func isReserved(_ key: String) -> Bool {
        if reservedPrefixes.contains(where: { key.hasPrefix($0) }) { return true }
        guard let slash = key.firstIndex(of: "/") else { return false }
        let domain = key[..<slash]
        return domain.hasSuffix(".kubernetes.io") || domain.hasSuffix(".k8s.io")
    }
}
