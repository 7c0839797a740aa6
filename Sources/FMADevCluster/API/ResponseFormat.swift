import FMAKubeModel
import NIOHTTP1

/// What a GET asked for in its `Accept` header: plain JSON, or a `meta.k8s.io/v1` Table.
enum ResponseFormat: Equatable {
    case json
    case table

    static let tableContentType = "application/json;as=Table;v=v1;g=meta.k8s.io"

    /// The first acceptable choice: a Table when a clause asks for `as=Table` in group
    /// `meta.k8s.io` (v1 or v1beta1, both answered as v1), JSON for `application/json`, `*/*` or
    /// no header. Only protobuf or YAML is a 406.
    static func negotiate(_ headers: HTTPHeaders) throws(KubeStatus) -> ResponseFormat {
        let values = headers[canonicalForm: "accept"]
        if values.isEmpty { return .json }
        var acceptsJSON = false
        for clause in values {
            let parts = clause.split(separator: ";").map { $0.trimmingSpaces() }
            guard let media = parts.first?.lowercased() else { continue }
            var parameters: [String: String] = [:]
            for part in parts.dropFirst() {
                let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces() }
                if pair.count == 2 { parameters[pair[0].lowercased()] = pair[1] }
            }
            guard media == "application/json" || media == "*/*" || media == "application/*" else { continue }
            if parameters["as"] == "Table" {
                if parameters["g"] == "meta.k8s.io", ["v1", "v1beta1"].contains(parameters["v"] ?? "") { return .table }
                continue
            }
            if parameters["as"] == nil { acceptsJSON = true }
        }
        if acceptsJSON { return .json }
        throw KubeStatus(code: 406, reason: .notAcceptable,
                         message: "only application/json (optionally as=Table;g=meta.k8s.io;v=v1) is served, not \(values.joined(separator: ","))")
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}
