import FMAJSON
import FMAKubeModel

/// What `kubectl explain` is shown: for each kind, its top-level fields, each saying where it
/// is described in full. fma-devcluster keeps no field-by-field schemas (it validates in code),
/// so `kubectl explain pods.spec.containers` answers that the field is not described here, and
/// the descriptions say where to read instead.
enum ExplainedKinds {
    /// Top-level fields besides apiVersion, kind and metadata, for kinds without spec and status.
    private static let fields: [ResourceKind: [String]] = [
        .configMap: ["data", "binaryData", "immutable"],
        .secret: ["data", "stringData", "type", "immutable"],
        .serviceAccount: ["secrets", "imagePullSecrets", "automountServiceAccountToken"],
        .event: ["involvedObject", "reason", "message", "type", "source", "count", "firstTimestamp", "lastTimestamp",
                 "eventTime", "series", "action", "related", "reportingComponent", "reportingInstance"],
        .eventsV1: ["regarding", "note", "reason", "type", "eventTime", "series", "action", "related", "reportingController",
                    "reportingInstance", "deprecatedSource", "deprecatedCount", "deprecatedFirstTimestamp", "deprecatedLastTimestamp"],
        .lease: ["spec"],
    ]

    /// The JSON type of the top-level fields that are not objects.
    private static let types: [String: String] = {
        var types = ["count": "integer", "deprecatedCount": "integer", "immutable": "boolean",
                     "automountServiceAccountToken": "boolean", "secrets": "array", "imagePullSecrets": "array"]
        for field in ["reason", "message", "note", "type", "action", "reportingComponent", "reportingController", "reportingInstance",
                      "eventTime", "firstTimestamp", "lastTimestamp", "deprecatedFirstTimestamp", "deprecatedLastTimestamp"] {
            types[field] = "string"
        }
        return types
    }()

    /// Where the fields of `kind` are described.
    static func reference(_ kind: ResourceKind) -> String {
        if kind.group == ResourceKind.fmaGroup {
            return "FMA's \(kind.kind) is described by the examples in deploy/examples of the fma checkout and in the controller's docs"
        }
        return "\(kind.kind) (\(kind.apiVersion)) is described field by field in the Kubernetes API reference, https://kubernetes.io/docs/reference/kubernetes-api/ (for Kubernetes 1.\(Discovery.kubernetesVersion.minor))"
    }

    /// The name a kind's schema has in the document (`io.k8s.api.core.v1.Pod` style).
    static func schemaName(_ kind: ResourceKind) -> String {
        "dev.fma.\(kind.group.isEmpty ? "core" : kind.group).\(kind.version).\(kind.kind)"
    }

    /// One schema per kind, keyed by `schemaName`; `metadata` refers to a shared ObjectMeta
    /// schema under `referencePrefix`: through `allOf` in OpenAPI v3, directly in Swagger 2.0.
    static func schemas(_ kinds: [ResourceKind], referencePrefix: String, swagger: Bool) -> JSONObject {
        guard !kinds.isEmpty else { return [:] }
        var schemas: JSONObject = ["dev.fma.meta.v1.ObjectMeta": [
            "type": "object",
            "description": "Standard object metadata: name, namespace, labels, annotations, ownerReferences, finalizers, resourceVersion and the rest, as in every Kubernetes object; described in the Kubernetes API reference (ObjectMeta).",
        ]]
        let metadata = JSONValue.string(referencePrefix + "dev.fma.meta.v1.ObjectMeta")
        for kind in kinds {
            let reference = reference(kind)
            var properties: JSONObject = [
                "apiVersion": ["type": "string", "description": .string("\(kind.apiVersion), the version of the schema this object follows.")],
                "kind": ["type": "string", "description": .string("\(kind.kind), the kind of object.")],
                "metadata": swagger ? ["description": "Standard object metadata.", "$ref": metadata]
                    : ["description": "Standard object metadata.", "allOf": [["$ref": metadata]]],
            ]
            for field in fields[kind] ?? ["spec", "status"] {
                let type = types[field] ?? "object"
                var property: JSONObject = ["type": .string(type), "description": .string("fma-devcluster does not describe this field further: \(reference).")]
                if type == "array" { property["items"] = ["type": "object"] }
                properties[field] = .object(property)
            }
            schemas[schemaName(kind)] = [
                "type": "object",
                "description": .string("fma-devcluster serves \(kind.kind) and names its top-level fields here, with no field-by-field descriptions: \(reference)."),
                "properties": .object(properties),
                "x-kubernetes-group-version-kind": [["group": .string(kind.group), "version": .string(kind.version), "kind": .string(kind.kind)]],
            ]
        }
        return schemas
    }
}
