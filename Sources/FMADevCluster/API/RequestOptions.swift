import FMAHTTPServer
import FMAKubeModel

/// The query parameters of a list or watch (`metav1.ListOptions`), checked: a malformed value
/// is a 400 naming the parameter.
struct ListOptions: Sendable {
    var labels = LabelSelector()
    var fields = FieldSelector()
    var limit: Int?
    var continueToken: String?
    var resourceVersion: String?
    var watch = false
    var allowWatchBookmarks = false
    var timeoutSeconds: Int64?

    /// The longest watch timeout honored (a day); longer ones are cut to it.
    static let maxTimeoutSeconds: Int64 = 86_400

    init(query: [String: String]) throws(KubeStatus) {
        if let text = query["labelSelector"], !text.isEmpty {
            do { labels = try LabelSelector(parsing: text) } catch {
                throw .badRequest("unable to parse requirement: labelSelector \"\(text)\": \(error.message)")
            }
        }
        if let text = query["fieldSelector"], !text.isEmpty {
            do { fields = try FieldSelector(parsing: text) } catch {
                throw .badRequest("fieldSelector \"\(text)\": \(error.message)")
            }
        }
        if let text = query["limit"], !text.isEmpty {
            guard let value = Int(text), value >= 0 else { throw .badRequest("limit must be a non-negative integer, got \"\(text)\"") }
            limit = value == 0 ? nil : value
        }
        if let text = query["continue"], !text.isEmpty { continueToken = text }
        if let text = query["resourceVersion"], !text.isEmpty {
            guard Int64(text) != nil else { throw .badRequest("resourceVersion must be an integer, got \"\(text)\"") }
            resourceVersion = text
        }
        watch = try Self.flag(query, "watch")
        allowWatchBookmarks = try Self.flag(query, "allowWatchBookmarks")
        if let text = query["timeoutSeconds"], !text.isEmpty {
            guard let value = Int64(text), value >= 0 else { throw .badRequest("timeoutSeconds must be a non-negative integer, got \"\(text)\"") }
            timeoutSeconds = value == 0 ? nil : min(value, Self.maxTimeoutSeconds)
        }
        if try Self.flag(query, "sendInitialEvents") {
            // A client that asks for a watch list falls back to list and watch on an error.
            throw KubeStatus(code: 422, reason: .invalid, message: "sendInitialEvents is not supported by fma-devcluster: list, then watch from the list's resourceVersion")
        }
        if let text = query["resourceVersionMatch"], !text.isEmpty, !["NotOlderThan", "Exact"].contains(text) {
            throw .badRequest("resourceVersionMatch must be NotOlderThan or Exact, got \"\(text)\"")
        }
    }

    /// `true`/`1` and `false`/`0`/absent; anything else is a 400.
    static func flag(_ query: [String: String], _ name: String) throws(KubeStatus) -> Bool {
        switch query[name] {
        case nil, "", "false", "0": return false
        case "true", "1": return true
        case let other?: throw .badRequest("\(name) must be true or false, got \"\(other)\"")
        }
    }
}

/// The query parameters of a create, update or patch: `dryRun` (only `All`),
/// `fieldValidation` (`Strict`, `Warn` — the default — or `Ignore`: what becomes of unknown
/// fields; the server knows the fields of the kinds `KubeFields` declares), `fieldManager`
/// (ignored).
struct WriteOptions: Sendable {
    enum FieldValidation: String, Sendable {
        case strict = "Strict", warn = "Warn", ignore = "Ignore"
    }

    var dryRun = false
    var fieldValidation = FieldValidation.warn

    init(query: [String: String]) throws(KubeStatus) {
        if let text = query["dryRun"], !text.isEmpty {
            guard text == "All" else { throw .badRequest("dryRun must be All, got \"\(text)\"") }
            dryRun = true
        }
        if let text = query["fieldValidation"], !text.isEmpty {
            guard let value = FieldValidation(rawValue: text) else {
                throw .badRequest("fieldValidation must be Strict, Warn or Ignore, got \"\(text)\"")
            }
            fieldValidation = value
        }
    }
}

extension HTTPRequest {
    /// The body's media type: the `Content-Type` without parameters, lower-cased; "" when
    /// there is none.
    var mediaType: String {
        headers.first(name: "content-type")?.split(separator: ";").first.map { $0.trimmingSpaces().lowercased() } ?? ""
    }
}
