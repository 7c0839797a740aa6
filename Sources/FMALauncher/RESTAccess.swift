public import FMAHTTPServer
import Foundation
public import FMARPC
import NIOHTTP1

/// Who may call the launcher's REST API, checked before every route.
///
/// A browser can be made to send requests to a developer's loopback port (a form posting
/// `text/plain`, or a DNS-rebound name), so: request bodies must be `application/json` (which
/// no form can send without the browser asking first), a listener on a loopback address answers
/// only requests whose `Host` names a loopback address, and a listener other machines can reach
/// needs a bearer token unless the operator chose `--rest-insecure`.
public struct RESTAccess: Sendable {
    /// Required in every request's `Authorization: Bearer …` when set.
    public var token: BearerToken?
    /// The listener is on a loopback address: `Host` must name one too.
    public var loopbackListener: Bool

    public init(listenHost: String, token: BearerToken?) {
        self.token = token
        self.loopbackListener = Self.isLoopback(host: listenHost)
    }

    /// 127.0.0.0/8, ::1 (bracketed or not) and localhost.
    public static func isLoopback(host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare == "::1" || bare.lowercased() == "localhost" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The host part of a `Host` header: `name`, `name:port`, `[v6]` or `[v6]:port`.
    static func hostPart(_ header: String) -> String {
        if header.hasPrefix("["), let close = header.firstIndex(of: "]") {
            return String(header[...close])
        }
        return header.split(separator: ":", maxSplits: 1).first.map(String.init) ?? header
    }

    public func check(_ request: HTTPRequest) throws(HTTPError) {
        if let token, !token.authorizes(request.headers.first(name: "authorization")) {
            throw HTTPError(.unauthorized, "this launcher's REST API needs the bearer token of its --rest-token-file (Authorization: Bearer …)")
        }
        if loopbackListener, let host = request.headers.first(name: "host"), !Self.isLoopback(host: Self.hostPart(host)) {
            throw HTTPError(.forbidden, "Host \(RPCError.quote(host)) is not a loopback address; this REST API listens on loopback only")
        }
        if request.method == .POST || request.method == .PUT {
            let type = request.headers.first(name: "content-type") ?? ""
            let media = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard media == "application/json" else {
                throw HTTPError(.unsupportedMediaType,
                                "a request body must be Content-Type: application/json, not \(type.isEmpty ? "none" : RPCError.quote(type))")
            }
        }
    }
}
