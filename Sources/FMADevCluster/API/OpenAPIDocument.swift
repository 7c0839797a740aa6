import FMAJSON
import FMAKubeModel

/// A minimal OpenAPI v3 description: one PATCH operation per object path, tagged with its
/// group-version-kind and the `fieldValidation` query parameter, and no schemas.
///
/// That is what kubectl reads it for: finding the parameter tells kubectl the server validates
/// fields itself, so `kubectl create -f` and `apply -f` send `fieldValidation=Strict` instead of
/// validating against schemas on the client (which would need `/openapi/v2`, answered 404 here).
/// With no schemas, kubectl's client-side apply computes strategic merge patches from its
/// built-in types.
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
        var paths = JSONObject()
        let parameters: JSONValue = [
            ["name": "fieldValidation", "in": "query", "schema": ["type": "string", "uniqueItems": true],
             "description": "Strict, Warn or Ignore: what the server does with unknown or duplicate fields."],
            ["name": "dryRun", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
        ]
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
        return [
            "openapi": "3.0.0",
            "info": ["title": "fma-devcluster", "version": .string(Discovery.kubernetesVersion.git)],
            "paths": .object(paths),
            "components": ["schemas": [:]],
        ]
    }
}
