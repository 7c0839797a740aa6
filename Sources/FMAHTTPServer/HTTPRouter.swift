public import NIOHTTP1

/// The table from method and path to handler that an `HTTPServer` dispatches requests with.
///
/// Patterns are absolute paths whose segments are literals or `{name}` parameters:
/// `router.add(.GET, "/v2/vllm/instances/{id}/log") { request in ... }`. A literal segment wins
/// over a parameter at the first position where two matching patterns differ, so
/// `/v2/vllm/instances/watch` beats `/v2/vllm/instances/{id}`. A GET route also answers HEAD
/// (without the body). A path some route matches, but not with the request's method, gets 405
/// with an `Allow` header; a path no route matches gets 404.
public struct HTTPRouter: Sendable {
    public typealias Handler = @Sendable (HTTPRequest) async throws -> HTTPResponse

    struct Route: Sendable {
        var method: String
        var pattern: String
        var segments: [Segment]
        var handler: Handler
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    /// What a request's method and path lead to.
    enum Match {
        case found(Route, parameters: [String: String])
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private(set) var routes: [Route] = []

    /// Runs before the handler of every matched route; what it throws (an `HTTPError`) is the
    /// answer instead. For checks every route shares: authentication, Host, Content-Type.
    public var admission: (@Sendable (HTTPRequest) throws -> Void)?

    public init() {}

    /// Adds a route. A malformed pattern, or one that repeats a route's method and shape, is a
    /// programming error and stops the process.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        let segments = Self.parse(pattern)
        for route in routes where route.method == method.rawValue && Self.sameShape(route.segments, segments) {
            preconditionFailure("route \(method.rawValue) \(pattern) repeats \(route.method) \(route.pattern)")
        }
        routes.append(Route(method: method.rawValue, pattern: pattern, segments: segments, handler: handler))
    }

    /// The route for `method` and the (percent-decoded) path segments, with its parameters.
    func match(method: HTTPMethod, segments: [String]) -> Match {
        var best: (route: Route, rank: [Bool], parameters: [String: String])?
        var allowed: Set<String> = []
        for route in routes {
            guard let parameters = Self.bind(route.segments, to: segments) else { continue }
            allowed.insert(route.method)
            let answers = route.method == method.rawValue || (method == .HEAD && route.method == HTTPMethod.GET.rawValue)
            guard answers else { continue }
            let rank = route.segments.map { if case .literal = $0 { true } else { false } }
            // An exact method beats HEAD-answered-by-GET; then literals win, left to right.
            if let current = best {
                let exactNow = route.method == method.rawValue
                let exactBefore = current.route.method == method.rawValue
                if exactBefore && !exactNow { continue }
                if exactBefore == exactNow && !rank.lexicographicallyPrecedes(current.rank, by: { $0 && !$1 }) { continue }
            }
            best = (route, rank, parameters)
        }
        if let best { return .found(best.route, parameters: best.parameters) }
        if allowed.isEmpty { return .notFound }
        if allowed.contains(HTTPMethod.GET.rawValue) { allowed.insert(HTTPMethod.HEAD.rawValue) }
        return .methodNotAllowed(allowed: allowed.sorted())
    }

    /// The pattern of the route a request would take, for metrics labels ("unmatched" if none).
    func routeLabel(method: HTTPMethod, segments: [String]) -> String {
        if case .found(let route, _) = match(method: method, segments: segments) { return route.pattern }
        return "unmatched"
    }

    private static func bind(_ pattern: [Segment], to segments: [String]) -> [String: String]? {
        guard pattern.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (expected, actual) in zip(pattern, segments) {
            switch expected {
            case .literal(let literal):
                guard literal == actual else { return nil }
            case .parameter(let name):
                guard !actual.isEmpty else { return nil }
                parameters[name] = actual
            }
        }
        return parameters
    }

    private static func sameShape(_ a: [Segment], _ b: [Segment]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { left, right in
            switch (left, right) {
            case (.literal(let x), .literal(let y)): return x == y
            case (.parameter, .parameter): return true
            default: return false
            }
        }
    }

    private static func parse(_ pattern: String) -> [Segment] {
        precondition(pattern.hasPrefix("/"), "route pattern '\(pattern)' must start with '/'")
        var names: Set<String> = []
        return HTTPPath.segments(of: Substring(pattern)).map { segment in
            if segment.hasPrefix("{") && segment.hasSuffix("}") {
                let name = String(segment.dropFirst().dropLast())
                precondition(!name.isEmpty && names.insert(name).inserted, "route pattern '\(pattern)' repeats or omits a parameter name")
                return .parameter(name)
            }
            precondition(!segment.contains("{") && !segment.contains("}"), "route pattern '\(pattern)': a parameter must be a whole segment")
            return .literal(segment)
        }
    }
}
