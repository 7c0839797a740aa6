public import FMAHTTPServer
import FMAJSON
import NIOCore
public import FMAKubeModel
public import Foundation
public import Logging
public import NIOHTTP1

/// The Kubernetes API over an `ObjectStore`: discovery, objects, subresources, watches, as
/// HTTP requests in and responses out. No sockets and no TLS here (`APIServer` adds those), so
/// the protocol can be tested on its own.
///
/// Every request must carry a bearer token (401 otherwise): the admin kubeconfig's, which may
/// do everything, or a ServiceAccount's (`kubectl create token`, and each Pod's own), whose
/// requests RBAC decides over the Roles and bindings stored (403 with a real API server's
/// message). Every failure is a `Status` object with the code and reason a real API server gives.
public struct KubeAPI: Sendable {
    public struct Configuration: Sendable {
        /// The admin token (`Authorization: Bearer TOKEN`); it also keys ServiceAccount tokens.
        public var token: String
        /// The clock ages in tables are measured with.
        public var now: @Sendable () -> Date = { Date() }

        public init(token: String) {
            self.token = token
        }
    }

    let store: ObjectStore
    /// The kinds served: the store's, and the views over them (`views`).
    let kinds: [ResourceKind]
    /// Kinds served over another kind's storage, by the kind served.
    let views: [ResourceKind: KindView]
    let discovery: Discovery
    let authenticator: Authenticator
    let authorizer: RBACAuthorizer
    /// The stored ValidatingAdmissionPolicies, enforced on writes through the API.
    let policies: AdmissionPolicies
    let configuration: Configuration
    let metrics: APIMetrics
    let logger: Logger
    /// Where `pods/NAME/log` finds container logs; set by whatever runs the containers.
    public let logSource = PodLogSource()

    public init(store: ObjectStore, kinds: [ResourceKind] = ResourceKind.all, configuration: Configuration, logger: Logger) {
        self.store = store
        let views = [KindView.eventsV1].filter { kinds.contains($0.storage) }
        self.kinds = kinds + views.map(\.kind)
        self.views = Dictionary(uniqueKeysWithValues: views.map { ($0.kind, $0) })
        self.discovery = Discovery(kinds: self.kinds, unserved: UnservedKinds.all)
        self.authenticator = Authenticator(adminToken: configuration.token, store: store, now: configuration.now)
        self.authorizer = RBACAuthorizer(store: store)
        self.policies = AdmissionPolicies(store: store, logger: logger)
        self.configuration = configuration
        self.metrics = APIMetrics()
        self.logger = logger
    }

    /// A router that sends every path (up to 12 segments, deeper ones are 404) and method to
    /// `handle`.
    public var router: HTTPRouter {
        var router = HTTPRouter()
        for depth in 0...12 {
            let pattern = "/" + (0..<depth).map { "{\(Self.segmentParameter($0))}" }.joined(separator: "/")
            for method in [HTTPMethod.GET, .POST, .PUT, .PATCH, .DELETE] {
                router.add(method, pattern) { request in await handle(request) }
            }
        }
        return router
    }

    /// The router's name for the path segment at `index`.
    private static func segmentParameter(_ index: Int) -> String {
        "s\(index)"
    }

    /// The `Status` answer for failures the HTTP server detects itself (for
    /// `HTTPServer.Configuration.errorResponse`).
    public static func errorResponse(_ status: HTTPResponseStatus, _ message: String) -> HTTPResponse {
        APIResponse.status(status, message)
    }

    /// Answers one request.
    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        var target: APITarget?
        var verb = Self.verb(request.method)
        let response: HTTPResponse
        do throws(KubeStatus) {
            guard let caller = authenticator.user(request.headers) else { throw .unauthorized }
            let user = try impersonation(of: caller, request.headers)
            // The router has split and percent-decoded the path already (a malformed one is its 400).
            let segments = (0..<request.pathParameters.count).compactMap { request.pathParameters[Self.segmentParameter($0)] }
                .filter { !$0.isEmpty }
            let parsed: APITarget
            do throws(APITarget.NotFound) {
                parsed = try APITarget.parse(segments, kinds: kinds + UnservedKinds.all)
            } catch {
                throw KubeStatus.notFoundPath(error.message)
            }
            target = parsed
            if case .collection = parsed {
                if verb == "delete" { verb = "deletecollection" }
                if verb == "list", try ListOptions.flag(request.query, "watch") { verb = "watch" }
            } else if verb == "list" {
                verb = "get"
            }
            let attributes = RequestAttributes(verb: verb, target: parsed, path: request.path)
            guard authorizer.allows(user, attributes) else {
                logger.info("request forbidden", metadata: [
                    "user": "\(user.name)", "verb": "\(attributes.verb)", "resource": "\(attributes.path ?? attributes.qualifiedResource)",
                    "namespace": "\(attributes.namespace)", "name": "\(attributes.name)",
                ])
                throw RBACAuthorizer.forbidden(user, attributes)
            }
            if let kind = parsed.kind, let refusal = UnservedKinds.refusal(kind) { throw refusal }
            response = try await route(request, to: parsed, user: user)
        } catch {
            response = APIResponse.status(error)
        }
        let code = Int(response.status.code)
        metrics.record(verb: verb, resource: APIMetrics.resource(target), code: code)
        logger.debug("request", metadata: ["verb": "\(verb)", "path": "\(request.path)", "code": "\(code)"])
        return response
    }

    /// The Kubernetes verb of a method on a resource (refined to `get` or `watch` later).
    private static func verb(_ method: HTTPMethod) -> String {
        switch method {
        case .GET, .HEAD: "list"
        case .POST: "create"
        case .PUT: "update"
        case .PATCH: "patch"
        case .DELETE: "delete"
        default: "other"
        }
    }

    private func route(_ request: HTTPRequest, to target: APITarget, user: UserInfo) async throws(KubeStatus) -> HTTPResponse {
        switch target {
        case .collection(let kind, let namespace):
            switch request.method {
            case .GET, .HEAD: return try await list(kind, namespace: namespace, request)
            case .POST: return try create(kind, namespace: namespace, request, user: user)
            case .DELETE: return try deleteCollection(kind, namespace: namespace, request)
            default: throw .methodNotAllowed(request.method.rawValue, kind.description)
            }
        case .object(let kind, let namespace, let name, let subresource):
            if subresource == "scale" { return try scale(kind, namespace: namespace, name: name, request) }
            if subresource == "log" { return try podLog(namespace: namespace, name: name, request) }
            if subresource == "binding" { return try bind(namespace: namespace, name: name, request) }
            if subresource == "token" {
                guard request.method == .POST else { throw .methodNotAllowed(request.method.rawValue, "serviceaccounts/token") }
                return try tokenRequest(namespace: namespace, name: name, request)
            }
            switch request.method {
            case .GET, .HEAD: return try get(kind, namespace: namespace, name: name, request)
            case .PUT: return try update(kind, namespace: namespace, name: name, subresource: subresource, request, user: user)
            case .PATCH: return try patch(kind, namespace: namespace, name: name, subresource: subresource, request, user: user)
            case .DELETE where subresource == nil: return try delete(kind, namespace: namespace, name: name, request, user: user)
            default: throw .methodNotAllowed(request.method.rawValue, subresource.map { "\(kind.description)/\($0)" } ?? kind.description)
            }
        case .accessReview:
            guard request.method == .POST else { throw .methodNotAllowed(request.method.rawValue, request.path) }
            return try selfSubjectAccessReview(request, user: user)
        case .subjectReview:
            guard request.method == .POST else { throw .methodNotAllowed(request.method.rawValue, request.path) }
            return selfSubjectReview(user: user)
        case .rulesReview:
            guard request.method == .POST else { throw .methodNotAllowed(request.method.rawValue, request.path) }
            return try selfSubjectRulesReview(request, user: user)
        default:
            guard request.method == .GET || request.method == .HEAD else {
                throw .methodNotAllowed(request.method.rawValue, request.path)
            }
            return try info(target, request)
        }
    }

    /// Discovery, version, health and OpenAPI documents.
    private func info(_ target: APITarget, _ request: HTTPRequest) throws(KubeStatus) -> HTTPResponse {
        switch target {
        case .root:
            let paths: [JSONValue] = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v2", "/openapi/v3", "/readyz", "/version"]
                + discovery.openAPIGroupVersions.filter { !$0.group.isEmpty }.flatMap { gv -> [JSONValue] in
                    [.string("/apis/\(gv.group)"), .string("/apis/\(gv.group)/\(gv.version)")]
                }
            return APIResponse.json(["paths": .array(paths)])
        case .version: return APIResponse.json(discovery.version)
        case .health: return .text("ok")
        case .coreVersions: return APIResponse.json(discovery.coreVersions)
        case .groupList: return APIResponse.json(discovery.groupList)
        case .group(let name):
            guard let group = discovery.group(name) else { throw .notFoundPath("the server could not find the requested resource") }
            return APIResponse.json(group)
        case .resourceList(let group, let version):
            return APIResponse.json(discovery.resourceList(group: group, version: version))
        case .openAPIv2:
            let swagger = OpenAPIDocument.swagger(kinds)
            guard SwaggerProtobuf.accepted(request.headers.first(name: "Accept") ?? "") else { return APIResponse.json(swagger) }
            return HTTPResponse(status: .ok, headers: ["Content-Type": SwaggerProtobuf.mediaType],
                                body: .bytes(ByteBuffer(bytes: SwaggerProtobuf.encode(swagger))))
        case .openAPIv3Root:
            return APIResponse.json(OpenAPIDocument.root(discovery.openAPIGroupVersions))
        case .openAPIv3(let group, let version):
            guard discovery.serves(group: group, version: version) else { throw .notFoundPath("no OpenAPI document for \(group)/\(version)") }
            return APIResponse.json(OpenAPIDocument.groupVersion(kinds.filter { $0.group == group && $0.version == version }))
        case .collection, .object, .accessReview, .subjectReview, .rulesReview:
            throw .internalError("a resource path reached the info handler")
        }
    }
}
