import FMAHTTPServer
import FMAJSON
import FMAKubeModel

/// A PATCH body read by its `Content-Type`.
///
/// - `application/merge-patch+json`: JSON merge patch.
/// - `application/json-patch+json`: JSON patch.
/// - `application/strategic-merge-patch+json`: Kubernetes' strategic merge patch
///   (`StrategicMergePatch`) for built-in kinds — what `kubectl patch`, `label`, `annotate` and
///   client-side `apply` send by default. As on a real cluster, custom resources do not take it
///   (415 naming the types they do take).
/// - `application/apply-patch+yaml` (server-side apply): 415.
enum PatchRequest {
    static func parse(_ request: HTTPRequest, kind: ResourceKind) throws(KubeStatus) -> StorePatch {
        let mediaType = request.mediaType
        let body = Array(request.body.readableBytesView)
        switch mediaType {
        case "application/merge-patch+json":
            return .merge(try json(body))
        case "application/json-patch+json":
            let document = try json(body)
            do { return .json(try JSONPatch(parsing: document)) } catch {
                throw .badRequest("the JSON patch is invalid: \(error.message)")
            }
        case "application/strategic-merge-patch+json":
            guard isBuiltIn(kind) else {
                throw .unsupportedMediaType("""
                    \(kind.plural).\(kind.group) is a custom resource, which takes no strategic merge patch (as on any \
                    Kubernetes cluster): send application/merge-patch+json or application/json-patch+json \
                    (kubectl patch --type=merge or --type=json)
                    """)
            }
            return .strategic(try json(body))
        case "application/apply-patch+yaml", "application/apply-patch+cbor":
            throw .unsupportedMediaType("server-side apply is not supported by fma-devcluster; use client-side apply (kubectl apply without --server-side) or a merge patch")
        case "":
            throw .unsupportedMediaType("a PATCH needs a Content-Type: application/merge-patch+json, application/json-patch+json or application/strategic-merge-patch+json")
        default:
            throw .unsupportedMediaType("the patch type \(mediaType) is not supported: use application/merge-patch+json, application/json-patch+json or application/strategic-merge-patch+json")
        }
    }

    private static func json(_ body: [UInt8]) throws(KubeStatus) -> JSONValue {
        do { return try JSONValue(parsing: body) } catch {
            throw .badRequest("the patch is not valid JSON: \(error.message)")
        }
    }

    /// Kubernetes' own kinds (the core group, groups without a dot, `*.k8s.io`); a custom
    /// resource's group has a dot of its own.
    static func isBuiltIn(_ kind: ResourceKind) -> Bool {
        kind.group.isEmpty || !kind.group.contains(".") || kind.group.hasSuffix(".k8s.io")
    }
}
