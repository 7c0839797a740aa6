import FMAHTTPClient
import FMAJSON
import Foundation
public import Logging

extension KubeConfig {
    /// The configuration of a kubeconfig context, as kubectl reads it.
    ///
    /// `paths` are merged in order, the first definition of a name winning (`KUBECONFIG`'s
    /// rule); files that do not exist are skipped, but at least one must exist. The context is
    /// `context` or the first `current-context`. Supported credentials: `token`, `tokenFile`
    /// (re-read on every request), `client-certificate(-data)` with `client-key(-data)`; the
    /// server is trusted through `certificate-authority(-data)` (data wins over a file), or not
    /// checked at all when `insecure-skip-tls-verify` is true (logged as a warning). Relative
    /// file paths are relative to the directory of the kubeconfig that names them.
    ///
    /// Errors name the file and the field.
    public static func fromKubeconfig(
        paths: [String],
        context: String? = nil,
        cluster: String? = nil,
        user: String? = nil,
        logger: Logger = Logger(label: "fma.kube.config")
    ) throws(KubeConfigError) -> KubeConfig {
        var merged = MergedKubeconfig()
        for path in paths {
            guard FileManager.default.fileExists(atPath: path) else {
                if paths.count == 1 { throw KubeConfigError("\(path): no such kubeconfig file") }
                continue
            }
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw KubeConfigError("\(path): cannot read: \(error.localizedDescription)")
            }
            merged.merge(try KubeconfigFile(path: path, text: text))
        }
        guard !merged.files.isEmpty else {
            throw KubeConfigError("no kubeconfig file found (looked for \(paths.joined(separator: ", ")))")
        }
        return try build(merged, context: context, cluster: cluster, user: user, logger: logger)
    }

    /// `cluster` and `user`, when given, replace the context's (kubectl's `--cluster`, `--user`).
    private static func build(_ merged: MergedKubeconfig, context explicitContext: String?, cluster explicitCluster: String?,
                              user explicitUser: String?, logger: Logger) throws(KubeConfigError) -> KubeConfig {
        let files = merged.files.joined(separator: ":")
        guard let contextName = explicitContext ?? merged.currentContext else {
            throw KubeConfigError("\(files): no current-context is set and no context was given")
        }
        guard let contextEntry = merged.contexts[contextName] else {
            let known = merged.contexts.keys.sorted().joined(separator: ", ")
            let origin = explicitContext == nil ? "current-context (in \(merged.currentContextFile ?? files))" : "context"
            throw KubeConfigError("\(files): \(origin) \"\(contextName)\" is not defined (contexts: \(known.isEmpty ? "none" : known))")
        }
        let contextField = "\(contextEntry.file): contexts[\(contextName)].context"
        let clusterOrigin = explicitCluster == nil ? "\(contextField).cluster" : "--cluster"
        guard let clusterName = explicitCluster ?? contextEntry.value["cluster"]?.string, !clusterName.isEmpty else {
            throw KubeConfigError("\(clusterOrigin): missing")
        }
        guard let cluster = merged.clusters[clusterName] else {
            throw KubeConfigError("\(clusterOrigin): cluster \"\(clusterName)\" is not defined in \(files)")
        }
        var config = KubeConfig(server: "", source: files)
        config.contextName = contextName
        if let namespace = contextEntry.value["namespace"]?.string, !namespace.isEmpty {
            config.namespace = namespace
        }
        try applyCluster(cluster, to: &config, logger: logger)
        if let userName = explicitUser ?? contextEntry.value["user"]?.string, !userName.isEmpty {
            guard let user = merged.users[userName] else {
                throw KubeConfigError("\(explicitUser == nil ? "\(contextField).user" : "--user"): user \"\(userName)\" is not defined in \(files)")
            }
            try applyUser(user, to: &config)
        }
        return config
    }

    private static func applyCluster(_ entry: KubeconfigFile.Entry, to config: inout KubeConfig, logger: Logger) throws(KubeConfigError) {
        let field = "\(entry.file): clusters[\(entry.name)].cluster"
        let cluster = entry.value
        guard let server = try string(cluster, "server", field), !server.isEmpty else {
            throw KubeConfigError("\(field).server: missing")
        }
        guard server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw KubeConfigError("\(field).server: \"\(server)\" is not an http:// or https:// URL")
        }
        config.server = trimmingSlash(server)
        if let data = try string(cluster, "certificate-authority-data", field), !data.isEmpty {
            config.tls.trustRoots = .pem(try base64(data, "\(field).certificate-authority-data"))
        } else if let path = try string(cluster, "certificate-authority", field), !path.isEmpty {
            try requireReadable(path, "\(field).certificate-authority")
            config.tls.trustRoots = .file(path)
        }
        if try bool(cluster, "insecure-skip-tls-verify", field) {
            config.tls.insecureSkipVerify = true
            logger.warning(
                "insecure-skip-tls-verify is set: the API server's certificate is not checked",
                metadata: ["cluster": "\(entry.name)", "kubeconfig": "\(entry.file)", "server": "\(server)"]
            )
        }
    }

    private static func applyUser(_ entry: KubeconfigFile.Entry, to config: inout KubeConfig) throws(KubeConfigError) {
        let field = "\(entry.file): users[\(entry.name)].user"
        let user = entry.value
        if let path = try string(user, "tokenFile", field), !path.isEmpty {
            try requireReadable(path, "\(field).tokenFile")
            config.token = .file(path)
        } else if let token = try string(user, "token", field), !token.isEmpty {
            config.token = .value(token)
        }
        if let data = try string(user, "client-certificate-data", field), !data.isEmpty {
            config.tls.clientCertificate = .pem(try base64(data, "\(field).client-certificate-data"))
        } else if let path = try string(user, "client-certificate", field), !path.isEmpty {
            try requireReadable(path, "\(field).client-certificate")
            config.tls.clientCertificate = .file(path)
        }
        if let data = try string(user, "client-key-data", field), !data.isEmpty {
            config.tls.clientKey = .pem(try base64(data, "\(field).client-key-data"))
        } else if let path = try string(user, "client-key", field), !path.isEmpty {
            try requireReadable(path, "\(field).client-key")
            config.tls.clientKey = .file(path)
        }
        if (config.tls.clientCertificate == nil) != (config.tls.clientKey == nil) {
            let missing = config.tls.clientKey == nil ? "client-key" : "client-certificate"
            throw KubeConfigError("\(field): a client certificate needs a key and a key a certificate; \(missing)(-data) is missing")
        }
        let hasCredential = config.token != .none || config.tls.clientCertificate != nil
        for unsupported in ["exec", "auth-provider", "username"] where user[unsupported] != nil && !hasCredential {
            throw KubeConfigError("\(field).\(unsupported): not supported by this client; use a token, tokenFile or client certificate")
        }
    }

    private static func string(_ object: JSONObject, _ key: String, _ field: String) throws(KubeConfigError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        default: throw KubeConfigError("\(field).\(key): expected a string, got \(value.typeName)")
        }
    }

    private static func bool(_ object: JSONObject, _ key: String, _ field: String) throws(KubeConfigError) -> Bool {
        guard let value = object[key], !value.isNull else { return false }
        if let b = value.bool { return b }
        if let s = value.string, let b = Bool(s.lowercased()) { return b }
        throw KubeConfigError("\(field).\(key): expected true or false, got \(value)")
    }

    private static func base64(_ text: String, _ field: String) throws(KubeConfigError) -> [UInt8] {
        guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters), !data.isEmpty else {
            throw KubeConfigError("\(field): not valid base64")
        }
        return [UInt8](data)
    }

    private static func requireReadable(_ path: String, _ field: String) throws(KubeConfigError) {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw KubeConfigError("\(field): no such file or not readable: \(path)")
        }
    }
}
