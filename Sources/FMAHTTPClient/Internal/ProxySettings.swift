/// The proxy decision for a client, fixed when the client is created: which proxy each URL
/// scheme goes through and which hosts go direct, in libcurl's NO_PROXY syntax.
///
/// The environment is read here rather than left to libcurl so that the rules are the ones
/// documented on `HTTPClient.Proxy` (libcurl ignores `HTTP_PROXY` in capitals and proxies
/// loopback hosts), and so they can be tested without changing the process environment.
struct ProxySettings: Sendable, Equatable {
    /// Loopback hosts never go through a proxy taken from the environment.
    static let loopback = "localhost,127.0.0.0/8,::1"

    var httpProxy: String?
    var httpsProxy: String?
    var noProxy: String

    init(httpProxy: String?, httpsProxy: String?, noProxy: String) {
        self.httpProxy = httpProxy
        self.httpsProxy = httpsProxy
        self.noProxy = noProxy
    }

    init(_ proxy: HTTPClient.Proxy, environment: [String: String]) {
        switch proxy {
        case .disabled:
            self.init(httpProxy: nil, httpsProxy: nil, noProxy: "")
        case .url(let url, let noProxy):
            self.init(httpProxy: url, httpsProxy: url, noProxy: noProxy)
        case .environment:
            func value(_ names: String...) -> String? {
                for name in names {
                    if let value = environment[name]?.trimmingSpaces(), !value.isEmpty { return value }
                }
                return nil
            }
            let all = value("all_proxy", "ALL_PROXY")
            let listed = value("no_proxy", "NO_PROXY")
            let noProxy: String
            if listed == "*" {
                noProxy = "*"
            } else if let listed {
                noProxy = listed + "," + Self.loopback
            } else {
                noProxy = Self.loopback
            }
            self.init(httpProxy: value("http_proxy", "HTTP_PROXY") ?? all,
                      httpsProxy: value("https_proxy", "HTTPS_PROXY") ?? all,
                      noProxy: noProxy)
        }
    }

    /// The proxy for `url` by its scheme, before the NO_PROXY check (libcurl makes that one).
    func proxy(for url: String) -> String? {
        url.lowercased().hasPrefix("https://") ? httpsProxy : httpProxy
    }
}

extension String {
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
