import FMAKubeModel
import Foundation
import NIOHTTP1

/// Who a request is, from its `Authorization: Bearer TOKEN`: the admin kubeconfig's token
/// (compared in constant time, so timing reveals nothing), or a ServiceAccount token this
/// cluster signed that has not expired and whose account still exists with the uid it names.
/// Anything else is nobody (401).
struct Authenticator: Sendable {
    private let adminToken: [UInt8]
    let tokens: ServiceAccountTokens
    private let store: ObjectStore
    private let now: @Sendable () -> Date

    init(adminToken: String, store: ObjectStore, now: @escaping @Sendable () -> Date) {
        self.adminToken = Array(adminToken.utf8)
        self.tokens = ServiceAccountTokens(adminToken: adminToken)
        self.store = store
        self.now = now
    }

    func user(_ headers: HTTPHeaders) -> UserInfo? {
        guard let token = Self.bearerToken(headers) else { return nil }
        if Self.constantTimeEqual(Array(token.utf8), adminToken) { return .admin }
        guard let claims = tokens.claims(token), claims.expires > Int64(now().timeIntervalSince1970),
              let account = try? store.get(.serviceAccount, namespace: claims.namespace, name: claims.name),
              account["metadata"]?["uid"]?.string == claims.uid
        else { return nil }
        return .serviceAccount(namespace: claims.namespace, name: claims.name, uid: claims.uid)
    }

    static func bearerToken(_ headers: HTTPHeaders) -> String? {
        guard let value = headers.first(name: "authorization") else { return nil }
        let scheme = "bearer "
        guard value.count > scheme.count, value.prefix(scheme.count).lowercased() == scheme else { return nil }
        var token = Substring(value.dropFirst(scheme.count))
        while token.last == " " { token.removeLast() }
        return String(token)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
