import Foundation

extension HTTPClient {
    /// How a client connects and what every request gets unless it says otherwise.
    public struct Configuration: Sendable {
        public var tls = TLS()
        /// Called before every request (on the caller's task, so keep it quick); a non-empty
        /// result is sent as `Authorization: Bearer TOKEN` unless the request has its own
        /// `Authorization` header. A throw fails the request with `.configuration`. Being a
        /// closure, it can re-read a rotating service-account token: see `tokenFile(_:)`.
        public var bearerToken: (@Sendable () throws -> String?)?
        public var proxy: Proxy = .environment
        /// Negotiate HTTP/2 by ALPN on `https://` (HTTP/1.1 otherwise); `false` keeps HTTP/1.1.
        public var allowHTTP2 = true
        /// The limit for a whole `send` whose request sets no `timeout`.
        public var defaultTimeout: Duration = .seconds(60)
        /// The limit for connecting (with the TLS handshake) when the request sets none.
        public var defaultConnectTimeout: Duration = .seconds(10)
        /// The largest body `send` accepts when the request sets no limit.
        public var maxResponseBodyBytes = 64 << 20
        /// How many body bytes a stream holds for a reader that is behind; past this the
        /// transfer pauses until the reader has taken half of them, and TCP holds the server
        /// back. Over HTTP/2, libcurl 7.88 itself still takes in up to its stream window
        /// (32 MiB) for a paused stream, so that is the bound there (measured; newer libcurl
        /// stops the window while paused).
        public var streamBufferBytes = 1 << 20
        public var userAgent = "fma/0.1.0"

        public init() {}

        /// A token provider that reads `path` on every request and drops surrounding white
        /// space, so a token the kubelet rotates in place is picked up at once.
        public static func tokenFile(_ path: String) -> @Sendable () throws -> String? {
            {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
                return token.isEmpty ? nil : token
            }
        }
    }

    /// TLS settings for `https://` requests.
    public struct TLS: Sendable, Hashable {
        /// Where a certificate, key or CA bundle comes from: a PEM file, or PEM bytes in memory
        /// (a kubeconfig's base64-decoded `certificate-authority-data`, for example).
        public enum Source: Sendable, Hashable {
            case file(String)
            case pem([UInt8])
        }

        /// The CAs that may sign the server's certificate, and then only these (the system's
        /// CAs are not consulted); `nil` trusts the system's CAs.
        public var trustRoots: Source?
        /// The client certificate presented when the server asks for one; needs `clientKey`.
        public var clientCertificate: Source?
        /// The private key of `clientCertificate`, unencrypted PEM.
        public var clientKey: Source?
        /// Accept any server certificate and name. For tests and debugging only.
        public var insecureSkipVerify = false

        public init(trustRoots: Source? = nil, clientCertificate: Source? = nil, clientKey: Source? = nil, insecureSkipVerify: Bool = false) {
            self.trustRoots = trustRoots
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.insecureSkipVerify = insecureSkipVerify
        }
    }

    /// Which proxy requests go through.
    public enum Proxy: Sendable, Hashable {
        /// The process environment as the client is created: `https_proxy`/`HTTPS_PROXY` for
        /// `https://` URLs, `http_proxy`/`HTTP_PROXY` for `http://`, `all_proxy`/`ALL_PROXY`
        /// for either when those are unset; hosts in `no_proxy`/`NO_PROXY` (names, domains,
        /// addresses, CIDR ranges, `*`) go direct, and so do loopback hosts (`localhost`,
        /// 127.0.0.0/8, ::1) always.
        case environment
        /// Every request goes direct, whatever the environment says.
        case disabled
        /// Every request goes through `url` except to the hosts in `noProxy` (libcurl's
        /// NO_PROXY syntax: comma-separated names, domains, addresses, CIDR ranges, or `*`).
        case url(String, noProxy: String = "")
    }
}
