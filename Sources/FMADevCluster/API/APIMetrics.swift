import FMAKubeModel
import Metrics
import NIOConcurrencyHelpers

/// The API server's Prometheus metrics, with bounded labels:
/// `fma_devcluster_api_requests_total{verb,resource,code}` (verbs as Kubernetes names them,
/// resources the served plurals with `/status` or `/scale`, `discovery`, `other`), and
/// `fma_devcluster_api_watches` (watch streams open now).
final class APIMetrics: Sendable {
    private struct Key: Hashable {
        var verb: String
        var resource: String
        var code: Int
    }

    private let counters = NIOLockedValueBox<[Key: Counter]>([:])
    private let watches = Meter(label: "fma_devcluster_api_watches")

    func record(verb: String, resource: String, code: Int) {
        let key = Key(verb: verb, resource: resource, code: code)
        let counter = counters.withLockedValue { counters in
            if let existing = counters[key] { return existing }
            let made = Counter(label: "fma_devcluster_api_requests_total",
                               dimensions: [("verb", verb), ("resource", resource), ("code", "\(code)")])
            counters[key] = made
            return made
        }
        counter.increment()
    }

    func watchStarted() { watches.increment() }
    func watchEnded() { watches.decrement() }

    /// The `resource` label of a request target.
    static func resource(_ target: APITarget?) -> String {
        switch target {
        case .collection(let kind, _), .object(let kind, _, _, nil): kind.description
        case .object(let kind, _, _, let subresource?): "\(kind.description)/\(subresource)"
        case .root, .coreVersions, .groupList, .group, .resourceList, .openAPIv2, .openAPIv3Root, .openAPIv3: "discovery"
        case .version, .health, .accessReview, .subjectReview, .rulesReview: "info"
        case nil: "other"
        }
    }
}
