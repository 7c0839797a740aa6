public import FMAHTTPClient
import Foundation
public import Logging

/// Where the API server is and how to talk to it: its URL, TLS trust and client certificate,
/// the bearer token, and the namespace to use when a call names none.
///
/// Made by `inCluster(...)` (a Pod's service account), `fromKubeconfig(...)` (kubectl's files),
/// or `load(...)`, which picks one of the two as client-go does.
public struct KubeConfig: Sendable {
    /// Where the bearer token comes from.
    public enum Token: Sendable, Hashable {
        case none
        case value(String)
        /// Read on every request, so a token the kubelet rotates is picked up at once.
        case file(String)
    }

    /// The API server's base URL, without a trailing slash (`https://10.0.0.1:443`).
    public var server: String
    public var tls: HTTPClient.TLS
    public var token: Token
    /// The namespace of the context (or the service account's); `default` when none is set.
    public var namespace: String
    /// The kubeconfig context used; `nil` in-cluster.
    public var contextName: String?
    /// What the configuration was read from, for logs: `in-cluster` or the kubeconfig paths.
    public var source: String

    public init(server: String, tls: HTTPClient.TLS = HTTPClient.TLS(), token: Token = .none, namespace: String = "default",
                contextName: String? = nil, source: String = "explicit") {
        self.server = Self.trimmingSlash(server)
        self.tls = tls
        self.token = token
        self.namespace = namespace
        self.contextName = contextName
        self.source = source
    }

    /// The HTTP client configuration: TLS and the token provider from here, the rest default.
    public var httpConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.tls = tls
        switch token {
        case .none: configuration.bearerToken = nil
        case .value(let value): configuration.bearerToken = { value }
        case .file(let path): configuration.bearerToken = HTTPClient.Configuration.tokenFile(path)
        }
        return configuration
    }

    /// The configuration client-go's default loading rules pick:
    /// 1. `kubeconfig` when given (that file, which must exist);
    /// 2. else kubeconfig files when a `context` is given or `KUBECONFIG` is set;
    /// 3. else in-cluster when `KUBERNETES_SERVICE_HOST` is set (inside a Pod);
    /// 4. else `~/.kube/config`.
    ///
    /// `environment` defaults to the process's.
    public static func load(
        kubeconfig: String? = nil,
        context: String? = nil,
        cluster: String? = nil,
        user: String? = nil,
        environment: [String: String]? = nil,
        logger: Logger = Logger(label: "fma.kube.config")
    ) throws(KubeConfigError) -> KubeConfig {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let kubeconfig {
            return try fromKubeconfig(paths: [kubeconfig], context: context, cluster: cluster, user: user, logger: logger)
        }
        let kubeconfigVariable = environment["KUBECONFIG"].map { !$0.isEmpty } ?? false
        if context == nil, cluster == nil, user == nil, !kubeconfigVariable, let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty {
            return try inCluster(environment: environment)
        }
        return try fromKubeconfig(paths: defaultKubeconfigPaths(environment: environment), context: context, cluster: cluster, user: user, logger: logger)
    }

    /// The kubeconfig files kubectl reads: each entry of `KUBECONFIG` (colon-separated, in
    /// order), or `$HOME/.kube/config`.
    public static func defaultKubeconfigPaths(environment: [String: String]? = nil) -> [String] {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let variable = environment["KUBECONFIG"], !variable.isEmpty {
            return variable.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return [home + "/.kube/config"]
    }

    static func trimmingSlash(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}

extension KubeConfig: CustomStringConvertible {
    /// Where and as whom, without secrets: `https://h:6443 (context dev, token file /x, namespace fma, from /home/me/.kube/config)`.
    public var description: String {
        var parts: [String] = []
        if let contextName { parts.append("context \(contextName)") }
        switch token {
        case .none: break
        case .value: parts.append("token")
        case .file(let path): parts.append("token file \(path)")
        }
        if tls.clientCertificate != nil { parts.append("client certificate") }
        if tls.insecureSkipVerify { parts.append("TLS not verified") }
        parts.append("namespace \(namespace)")
        parts.append("from \(source)")
        return "\(server) (\(parts.joined(separator: ", ")))"
    }
}

extension KubeConfig.Token: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never the token itself: configurations end up in logs.
    public var description: String {
        switch self {
        case .none: "none"
        case .value: "value(<redacted>)"
        case .file(let path): "file(\(path))"
        }
    }

    public var debugDescription: String { description }
}
