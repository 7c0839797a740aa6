import Crypto
import Foundation

/// Tokens for ServiceAccounts, as `kubectl create token` (a TokenRequest) and the kubelet get
/// them. A token names the account's namespace, name and uid and when it expires, signed by the
/// cluster (HMAC-SHA256 under a key derived from the admin token, so tokens hold across a
/// restart of the cluster). It stops working when it expires, and when its account is deleted
/// (an account made again under the same name has another uid), as a bound token does.
struct ServiceAccountTokens: Sendable {
    struct Claims: Sendable, Equatable {
        var namespace: String
        var name: String
        var uid: String
        /// Seconds since 1970.
        var expires: Int64
    }

    static let prefix = "fma-sa."
    private let key: SymmetricKey

    init(adminToken: String) {
        key = SymmetricKey(data: SHA256.hash(data: Data("fma-devcluster service account tokens\n\(adminToken)".utf8)))
    }

    func mint(_ claims: Claims) -> String {
        let body = Self.base64URL(Data("\(claims.namespace)\n\(claims.name)\n\(claims.uid)\n\(claims.expires)".utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: key)
        return Self.prefix + body + "." + Self.base64URL(Data(mac))
    }

    /// The claims of a token this cluster signed (expired or not); nil for any other text.
    func claims(_ token: String) -> Claims? {
        guard token.hasPrefix(Self.prefix) else { return nil }
        let parts = token.dropFirst(Self.prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let mac = Self.decodeBase64URL(parts[1]),
              HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(parts[0].utf8), using: key),
              let payload = Self.decodeBase64URL(parts[0]).flatMap({ String(data: $0, encoding: .utf8) })
        else { return nil }
        let fields = payload.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 4, let expires = Int64(fields[3]) else { return nil }
        return Claims(namespace: fields[0], name: fields[1], uid: fields[2], expires: expires)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: Substring) -> Data? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard)
    }
}
