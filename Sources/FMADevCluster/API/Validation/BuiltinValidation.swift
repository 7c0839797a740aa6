import FMAJSON
import FMAKubeModel
import Foundation

/// The checks Kubernetes makes on every object's metadata, and the basic ones on built-in
/// kinds that fma-devcluster's clients could get wrong: names per kind, label keys and values,
/// annotation keys; a Pod's containers; a ReplicaSet's replicas and selector; a Lease's spec;
/// a Secret's data.
enum BuiltinValidation {
    /// `metadata`: the name as the kind requires (a DNS-1123 label for namespaces, a DNS-1035
    /// label for services, a DNS-1123 subdomain otherwise), labels and annotations.
    static func metadata(_ object: JSONObject, kind: ResourceKind) -> FieldErrors {
        var errors = FieldErrors()
        guard let metadata = errors.object(object["metadata"], "metadata", required: true) else { return errors }
        let name = errors.string(metadata["name"], "metadata.name", required: false) ?? ""
        let generateName = errors.string(metadata["generateName"], "metadata.generateName", required: false) ?? ""
        if name.isEmpty {
            if generateName.isEmpty { errors.required("metadata.name") }
        } else if let problem = nameProblem(name, kind: kind) {
            errors.invalid("metadata.name", .string(name), problem)
        }
        errors.labels(metadata["labels"], "metadata.labels")
        errors.annotations(metadata["annotations"], "metadata.annotations")
        if let finalizers = metadata["finalizers"], !finalizers.isNull {
            if let list = finalizers.array {
                for (index, finalizer) in list.enumerated() {
                    guard let text = finalizer.string else {
                        errors.invalid("metadata.finalizers[\(index)]", finalizer, "must be of type string")
                        continue
                    }
                    if let problem = NameRules.qualifiedName(text) { errors.invalid("metadata.finalizers[\(index)]", finalizer, problem) }
                }
            } else {
                errors.invalid("metadata.finalizers", finalizers, "must be of type array")
            }
        }
        return errors
    }

    static func nameProblem(_ name: String, kind: ResourceKind) -> String? {
        switch kind {
        case .namespace: NameRules.dns1123Label(name)
        case .service: NameRules.dns1035Label(name)
        default: NameRules.dns1123Subdomain(name)
        }
    }

    /// A Pod needs at least one container, each with a unique DNS-1123 label name and an image.
    static func pod(_ object: JSONObject) -> FieldErrors {
        var errors = FieldErrors()
        guard let spec = errors.object(object["spec"], "spec", required: true) else { return errors }
        for field in ["containers", "initContainers"] {
            guard let value = spec[field], !value.isNull else {
                if field == "containers" { errors.required("spec.containers") }
                continue
            }
            guard let containers = value.array else {
                errors.invalid("spec.\(field)", value, "must be of type array")
                continue
            }
            if field == "containers" && containers.isEmpty { errors.required("spec.containers") }
            var names: Set<String> = []
            for (index, container) in containers.enumerated() {
                let path = "spec.\(field)[\(index)]"
                guard let container = errors.object(container, path, required: true) else { continue }
                if let name = errors.string(container["name"], "\(path).name", required: true) {
                    if let problem = NameRules.dns1123Label(name) { errors.invalid("\(path).name", .string(name), problem) }
                    if !names.insert(name).inserted { errors.duplicate("\(path).name", .string(name)) }
                }
                _ = errors.string(container["image"], "\(path).image", required: true)
            }
        }
        return errors
    }

    /// A Lease's spec as `ValidateLeaseSpec` checks it, with each field's type: the holder a
    /// string, a duration > 0, transitions ≥ 0, the times RFC 3339 (`metav1.MicroTime`).
    static func lease(_ object: JSONObject) -> FieldErrors {
        var errors = FieldErrors()
        guard let spec = errors.object(object["spec"], "spec", required: false) else { return errors }
        for field in ["holderIdentity", "strategy", "preferredHolder"] {
            _ = errors.string(spec[field], "spec.\(field)", required: false)
        }
        if let duration = errors.integer(spec["leaseDurationSeconds"], "spec.leaseDurationSeconds", required: false, in: Int64.int32Min...Int64.int32Max),
           duration <= 0 {
            errors.invalid("spec.leaseDurationSeconds", .int(duration), "must be greater than 0")
        }
        if let transitions = errors.integer(spec["leaseTransitions"], "spec.leaseTransitions", required: false, in: Int64.int32Min...Int64.int32Max),
           transitions < 0 {
            errors.invalid("spec.leaseTransitions", .int(transitions), "must be greater than or equal to 0")
        }
        for field in ["acquireTime", "renewTime"] {
            if let time = errors.string(spec[field], "spec.\(field)", required: false), KubeMicroTime.date(time) == nil {
                errors.invalid("spec.\(field)", .string(time), "must be an RFC 3339 time, such as 2006-01-02T15:04:05.000000Z")
            }
        }
        return errors
    }

    /// A Secret (after `stringData` was folded into `data`): a string type, and `data` keys
    /// that are config keys with base64 values.
    static func secret(_ object: JSONObject) -> FieldErrors {
        var errors = FieldErrors()
        _ = errors.string(object["type"], "type", required: false)
        for field in ["data", "stringData"] {
            guard let members = errors.object(object[field], field, required: false) else { continue }
            for (key, value) in members {
                let path = "\(field)[\(key)]"
                if let problem = NameRules.configKey(key) { errors.invalid(field, .string(key), problem) }
                guard let text = errors.string(value, path, required: false) else { continue }
                if field == "data", Data(base64Encoded: text) == nil {
                    errors.invalid(path, value, "must be base64-encoded (stringData takes plain text)")
                }
            }
        }
        return errors
    }

    /// A ReplicaSet: replicas ≥ 0, a non-empty selector that the template's labels satisfy.
    static func replicaSet(_ object: JSONObject) -> FieldErrors {
        var errors = FieldErrors()
        guard let spec = errors.object(object["spec"], "spec", required: true) else { return errors }
        _ = errors.integer(spec["replicas"], "spec.replicas", required: false, in: 0...Int64.int32Max)
        guard let selectorValue = spec["selector"], !selectorValue.isNull else {
            errors.required("spec.selector")
            return errors
        }
        let selector: LabelSelector
        do { selector = try LabelSelector(object: selectorValue) } catch {
            errors.invalid("spec.selector", selectorValue, error.message)
            return errors
        }
        if selector.isEverything {
            errors.invalid("spec.selector", selectorValue, "empty selector is invalid for deployment")
        }
        let labels = object[path: ["spec", "template", "metadata", "labels"]]?.stringMap ?? [:]
        if !selector.isEverything && !selector.matches(labels) {
            errors.invalid("spec.template.metadata.labels", JSONValue(stringMap: labels), "`selector` does not match template `labels`")
        }
        return errors
    }
}
