import FMAHTTPServer
import FMAJSON
import FMAKubeModel

/// A PATCH body read by its `Content-Type`.
///
/// - `application/merge-patch+json`: JSON merge patch.
/// - `application/json-patch+json`: JSON patch.
/// - `application/strategic-merge-patch+json`: served only where it means exactly what a merge
///   patch means — no lists and no `$` directives anywhere in it (what `kubectl label`,
///   `annotate` and a client-side `apply` of maps send). A strategic patch with a list (merged by
///   key in Kubernetes) is a 415 saying so; full strategic merge patch comes later.
/// - `application/apply-patch+yaml` (server-side apply): 415.
enum PatchRequest {
    static func parse(_ request: HTTPRequest) throws(KubeStatus) -> StorePatch {
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
            let patch = try json(body)
            if let why = strategicOnlyContent(patch, path: "") {
                throw .unsupportedMediaType("""
                    strategic merge patch is not supported by fma-devcluster yet (this patch has \(why), which a strategic \
                    merge would treat differently from a merge patch); send application/merge-patch+json or \
                    application/json-patch+json instead (kubectl patch --type=merge or --type=json)
                    """)
            }
            return .merge(patch)
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

    /// Where a strategic merge patch differs from a merge patch: the first list or `$` key found,
    /// described; nil when it has neither.
    static func strategicOnlyContent(_ value: JSONValue, path: String) -> String? {
        switch value {
        case .array:
            return "a list at \(path.isEmpty ? "the top" : path)"
        case .object(let object):
            for (key, member) in object {
                let memberPath = path.isEmpty ? key : "\(path).\(key)"
                if key.hasPrefix("$") { return "the directive \(memberPath)" }
                if let found = strategicOnlyContent(member, path: memberPath) { return found }
            }
            return nil
        default:
            return nil
        }
    }
}
