import FMAKubeModel

/// What a request asks to do, as RBAC reads it: a verb on a resource (its API group, plural,
/// subresource, namespace and name), or a verb on a path that names no resource (`/version`,
/// discovery, `/openapi/v2`, health).
struct RequestAttributes: Sendable, Equatable {
    var verb: String
    var apiGroup = ""
    var resource = ""
    var subresource = ""
    var namespace = ""
    var name = ""
    /// The path of a non-resource request; nil for a resource request.
    var path: String?

    var isResourceRequest: Bool { path == nil }

    /// `resource` or `resource/subresource`, as a Role's `resources` names it.
    var qualifiedResource: String { subresource.isEmpty ? resource : "\(resource)/\(subresource)" }

    /// The attributes of a request for `target` with the Kubernetes `verb` (`get`, `list`,
    /// `watch`, `create`, …) already worked out.
    init(verb: String, target: APITarget, path: String) {
        self.verb = verb
        switch target {
        case .collection(let kind, let namespace):
            (apiGroup, resource, self.namespace) = (kind.group, kind.plural, namespace ?? "")
        case .object(let kind, let namespace, let name, let subresource):
            (apiGroup, resource, self.namespace, self.name, self.subresource) = (kind.group, kind.plural, namespace, name, subresource ?? "")
        case .accessReview:
            (apiGroup, resource) = ("authorization.k8s.io", "selfsubjectaccessreviews")
        case .rulesReview:
            (apiGroup, resource) = ("authorization.k8s.io", "selfsubjectrulesreviews")
        case .subjectReview:
            (apiGroup, resource) = ("authentication.k8s.io", "selfsubjectreviews")
        default:
            // A non-resource request's verb is the HTTP method's lower-case name.
            self.verb = verb == "create" ? "post" : verb == "list" ? "get" : verb
            self.path = path
        }
    }

    init(verb: String, apiGroup: String = "", resource: String, subresource: String = "", namespace: String = "", name: String = "") {
        (self.verb, self.apiGroup, self.resource, self.subresource, self.namespace, self.name) = (verb, apiGroup, resource, subresource, namespace, name)
    }

    init(verb: String, path: String) {
        (self.verb, self.path) = (verb, path)
    }
}
