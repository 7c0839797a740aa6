import FMAKubeModel

/// What a request path names: a discovery or info document, a collection of objects, or one
/// object (or one of its subresources).
enum APITarget: Equatable {
    case root
    case version
    case health(String)
    /// `/api`: the core group's versions.
    case coreVersions
    /// `/apis`: every group.
    case groupList
    /// `/apis/GROUP`.
    case group(String)
    /// `/api/v1` or `/apis/GROUP/VERSION`: the resources of one group version.
    case resourceList(group: String, version: String)
    /// `/openapi/v2`, `/openapi/v3` and `/openapi/v3/api/v1`, `/openapi/v3/apis/GROUP/VERSION`.
    case openAPIv2
    case openAPIv3Root
    case openAPIv3(group: String, version: String)
    /// A collection: in one namespace, or across all (`namespace == nil`) or cluster-scoped.
    case collection(ResourceKind, namespace: String?)
    /// One object; `namespace` is empty for cluster-scoped kinds.
    case object(ResourceKind, namespace: String, name: String, subresource: String?)
    /// `/apis/authorization.k8s.io/v1/selfsubjectaccessreviews` (`kubectl auth can-i`).
    case accessReview
    /// `/apis/authentication.k8s.io/v1/selfsubjectreviews` (`kubectl auth whoami`).
    case subjectReview
    /// `/apis/authorization.k8s.io/v1/selfsubjectrulesreviews` (`kubectl auth can-i --list`).
    case rulesReview

    /// The kind of objects the path names, if it names objects.
    var kind: ResourceKind? {
        switch self {
        case .collection(let kind, _), .object(let kind, _, _, _): kind
        default: nil
        }
    }

    /// Why a path names nothing, for the 404's message.
    struct NotFound: Error {
        var message: String
    }

    /// Reads decoded path segments against the kinds served.
    static func parse(_ segments: [String], kinds: [ResourceKind]) throws(NotFound) -> APITarget {
        let path = "/" + segments.joined(separator: "/")
        let notFound = NotFound(message: "the server could not find the requested resource (path \(path))")
        switch segments.first {
        case nil: return .root
        case "version" where segments.count == 1: return .version
        case "healthz", "readyz", "livez": return .health(segments[0])
        case "openapi":
            switch segments.dropFirst().first {
            case "v2" where segments.count == 2: return .openAPIv2
            case "v3" where segments.count == 2: return .openAPIv3Root
            case "v3" where segments.count == 4 && segments[2] == "api": return .openAPIv3(group: "", version: segments[3])
            case "v3" where segments.count == 5 && segments[2] == "apis": return .openAPIv3(group: segments[3], version: segments[4])
            default: throw notFound
            }
        case "api":
            if segments.count == 1 { return .coreVersions }
            guard segments[1] == "v1" else { throw notFound }
            if segments.count == 2 { return .resourceList(group: "", version: "v1") }
            return try resource(Array(segments.dropFirst(2)), group: "", version: "v1", kinds: kinds, notFound: notFound)
        case "apis":
            switch segments.count {
            case 1: return .groupList
            case 2:
                guard kinds.contains(where: { $0.group == segments[1] }) else { throw notFound }
                return .group(segments[1])
            case 3:
                guard kinds.contains(where: { $0.group == segments[1] && $0.version == segments[2] }) else { throw notFound }
                return .resourceList(group: segments[1], version: segments[2])
            case 4 where segments[1...] == ["authorization.k8s.io", "v1", "selfsubjectaccessreviews"]:
                return .accessReview
            case 4 where segments[1...] == ["authentication.k8s.io", "v1", "selfsubjectreviews"]:
                return .subjectReview
            case 4 where segments[1...] == ["authorization.k8s.io", "v1", "selfsubjectrulesreviews"]:
                return .rulesReview
            default:
                return try resource(Array(segments.dropFirst(3)), group: segments[1], version: segments[2], kinds: kinds, notFound: notFound)
            }
        default:
            throw notFound
        }
    }

    /// Pod subresources a real cluster serves and this one does not, with what to do instead.
    private static let notServedPodSubresources = [
        "exec": "a pod's containers run as processes on this machine (simulated ones run nothing); run the command here, and see a container's output with kubectl logs",
        "attach": "a pod's containers run as processes on this machine (simulated ones run nothing); see a container's output with kubectl logs -f",
        "portforward": "each pod listens on its own loopback address on this machine; connect to the pod's IP (kubectl get pod NAME -o wide) and port directly",
    ]

    /// The part after the group version: `PLURAL[/NAME[/SUB]]` or
    /// `namespaces/NS/PLURAL[/NAME[/SUB]]`.
    private static func resource(_ rest: [String], group: String, version: String, kinds: [ResourceKind],
                                 notFound: NotFound) throws(NotFound) -> APITarget {
        func kind(_ plural: String) -> ResourceKind? {
            kinds.first { $0.group == group && $0.version == version && $0.plural == plural }
        }
        // namespaces/NS/PLURAL… — a namespaced kind inside a namespace. (`namespaces/NAME/status`
        // is the namespace's own subresource: `status` names no kind.)
        if rest.count >= 3, rest[0] == "namespaces", let inner = kind(rest[2]), inner.namespaced {
            let namespace = rest[1]
            switch rest.count {
            case 3: return .collection(inner, namespace: namespace)
            case 4: return .object(inner, namespace: namespace, name: rest[3], subresource: nil)
            case 5:
                if inner == .pod, let why = notServedPodSubresources[rest[4]] {
                    throw NotFound(message: "pods/\(rest[4]) is not served by fma-devcluster: \(why)")
                }
                guard inner.subresources.contains(rest[4]) || (inner == .pod && ["log", "binding"].contains(rest[4]))
                        || (inner == .serviceAccount && rest[4] == "token") else { throw notFound }
                return .object(inner, namespace: namespace, name: rest[3], subresource: rest[4])
            default: throw notFound
            }
        }
        guard let outer = kind(rest[0]) else { throw notFound }
        switch rest.count {
        case 1: return .collection(outer, namespace: nil)
        case 2 where !outer.namespaced: return .object(outer, namespace: "", name: rest[1], subresource: nil)
        case 3 where !outer.namespaced && outer.subresources.contains(rest[2]):
            return .object(outer, namespace: "", name: rest[1], subresource: rest[2])
        default: throw notFound
        }
    }
}
