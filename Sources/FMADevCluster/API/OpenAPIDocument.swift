import FMAJSON
import FMAKubeModel

/// A minimal OpenAPI v3 description: one PATCH operation per object path, tagged with its
/// group-version-kind and the `fieldValidation` query parameter, and one schema per kind that
/// names only its top-level fields.
///
/// That is what kubectl reads it for: finding the parameter tells kubectl the server validates
/// fields itself, so `kubectl create -f` and `apply -f` send `fieldValidation=Strict` instead of
/// validating against schemas on the client. The PATCH operations declare no body types, so
/// kubectl's client-side apply computes strategic merge patches from its built-in types, not
/// from these schemas. The schemas are for `kubectl explain`: it shows a kind's top-level
/// fields and says where the full description is (`ExplainedKinds`). `/openapi/v2` is the same
/// description in Swagger 2.0 form (JSON), for tools that read only that version.
enum OpenAPIDocument {
    /// `/openapi/v3`: where each group version's document is.
    static func root(_ groupVersions: [(group: String, version: String)]) -> JSONObject {
        var paths = JSONObject()
        for gv in groupVersions {
            let name = gv.group.isEmpty ? "api/\(gv.version)" : "apis/\(gv.group)/\(gv.version)"
            paths[name] = .object(["serverRelativeURL": .string("/openapi/v3/\(name)")])
        }
        return ["paths": .object(paths)]
    }

    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/GROUP/VERSION`.
    static func groupVersion(_ kinds: [ResourceKind]) -> JSONObject {
        [
            "openapi": "3.0.0",
            "info": info,
            "paths": .object(paths(kinds, swagger: false)),
            "components": ["schemas": .object(ExplainedKinds.schemas(kinds, referencePrefix: "#/components/schemas/", swagger: false))],
        ]
    }

    /// `/openapi/v2`: every kind served, in Swagger 2.0 form.
    static func swagger(_ kinds: [ResourceKind]) -> JSONObject {
        ["swagger": "2.0", "info": info, "paths": .object(paths(kinds, swagger: true)), "definitions": .object(ExplainedKinds.schemas(kinds, referencePrefix: "#/definitions/", swagger: true))]
    }

    private static var info: JSONValue {
        ["title": "fma-devcluster", "version": .string(Discovery.kubernetesVersion.git)]
    }

    /// One PATCH operation per object path; a parameter's type is under `schema` in OpenAPI v3
    /// and beside its name in Swagger 2.0.
    private static func paths(_ kinds: [ResourceKind], swagger: Bool) -> JSONObject {
        func parameter(_ name: String, _ description: String?) -> JSONValue {
            var parameter: JSONObject = ["name": .string(name), "in": "query"]
            if swagger {
                parameter["type"] = "string"
                parameter["uniqueItems"] = true
            } else {
                parameter["schema"] = ["type": "string", "uniqueItems": true]
            }
            if let description { parameter["description"] = .string(description) }
            return .object(parameter)
        }
        let parameters: JSONValue = [
            parameter("fieldValidation", "Strict, Warn or Ignore: what the server does with unknown or duplicate fields."),
            parameter("dryRun", nil),
        ]
        var paths = JSONObject()
        for kind in kinds {
            let gvk: JSONValue = ["group": .string(kind.group), "version": .string(kind.version), "kind": .string(kind.kind)]
            let operation: JSONValue = [
                "x-kubernetes-group-version-kind": gvk, "parameters": parameters,
                "responses": ["200": ["description": "OK"]],
            ]
            let path = kind.namespaced
                ? "\(kind.groupVersionPath)/namespaces/{namespace}/\(kind.plural)/{name}"
                : "\(kind.groupVersionPath)/\(kind.plural)/{name}"
            paths[path] = .object(["patch": operation])
        }
        return paths
    }
}
