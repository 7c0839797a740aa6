@testable import FMAHTTPClient
import Testing

@Suite("ProxySettings: proxies from the environment, NO_PROXY, loopback direct")
struct ProxySettingsTests {
    @Test("scheme-specific variables, either case, with ALL_PROXY as the fallback")
    func variables() {
        let lower = ProxySettings(.environment, environment: ["http_proxy": "http://p:1", "https_proxy": "http://s:2"])
        #expect(lower.proxy(for: "http://api/x") == "http://p:1")
        #expect(lower.proxy(for: "HTTPS://api/x") == "http://s:2")
        let upper = ProxySettings(.environment, environment: ["HTTP_PROXY": "http://P:1", "ALL_PROXY": "socks5://a:3"])
        #expect(upper.proxy(for: "http://api/x") == "http://P:1")
        #expect(upper.proxy(for: "https://api/x") == "socks5://a:3")
        let none = ProxySettings(.environment, environment: ["http_proxy": "  "])
        #expect(none.proxy(for: "http://api/x") == nil)
    }

    @Test("NO_PROXY is kept and loopback is always added; * stays *")
    func noProxy() {
        #expect(ProxySettings(.environment, environment: [:]).noProxy == ProxySettings.loopback)
        #expect(ProxySettings(.environment, environment: ["NO_PROXY": "10.0.0.0/8,.svc"]).noProxy == "10.0.0.0/8,.svc," + ProxySettings.loopback)
        #expect(ProxySettings(.environment, environment: ["no_proxy": "a", "NO_PROXY": "b"]).noProxy == "a," + ProxySettings.loopback)
        #expect(ProxySettings(.environment, environment: ["NO_PROXY": "*"]).noProxy == "*")
    }

    @Test("disabled and explicit proxies ignore the environment")
    func explicit() {
        let environment = ["https_proxy": "http://env:1", "NO_PROXY": "x"]
        let disabled = ProxySettings(.disabled, environment: environment)
        #expect(disabled.proxy(for: "https://a") == nil)
        let explicit = ProxySettings(.url("http://mine:8", noProxy: "internal"), environment: environment)
        #expect(explicit.proxy(for: "https://a") == "http://mine:8")
        #expect(explicit.noProxy == "internal")
    }
}
