import FMAHTTPClient
import FMAKube
import FMATestSupport
import Foundation
import Testing

@Suite("kubeconfig")
struct KubeConfigTests {
    private func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    private static let base = """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: devcluster
          cluster:
            server: https://127.0.0.1:6443/
            certificate-authority: certs/ca.crt
        users:
        - name: admin
          user:
            tokenFile: token
        - name: certuser
          user:
            client-certificate-data: Y2VydA==
            client-key-data: a2V5
        contexts:
        - name: dev
          context:
            cluster: devcluster
            user: admin
            namespace: fma
        - name: cert
          context:
            cluster: devcluster
            user: certuser
        """

    @Test func currentContextWithRelativePathsAndTokenFile() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.base, to: dir + "/kube/config")
            try write("CA", to: dir + "/kube/certs/ca.crt")
            try write("tok-1\n", to: dir + "/kube/token")
            let config = try KubeConfig.fromKubeconfig(paths: [dir + "/kube/config"])
            #expect(config.server == "https://127.0.0.1:6443")
            #expect(config.contextName == "dev")
            #expect(config.namespace == "fma")
            #expect(config.tls.trustRoots == .file(dir + "/kube/certs/ca.crt"))
            #expect(config.token == .file(dir + "/kube/token"))
            // The token file is read on every request: a rotated token is used at once.
            let provider = try #require(config.httpConfiguration.bearerToken)
            #expect(try provider() == "tok-1")
            try write("tok-2", to: dir + "/kube/token")
            #expect(try provider() == "tok-2")
        }
    }

    @Test func explicitContextWithInlineData() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.base, to: dir + "/config")
            try write("CA", to: dir + "/certs/ca.crt")
            try write("t", to: dir + "/token")
            let config = try KubeConfig.fromKubeconfig(paths: [dir + "/config"], context: "cert")
            #expect(config.contextName == "cert")
            #expect(config.namespace == "default")
            #expect(config.tls.clientCertificate == .pem(Array("cert".utf8)))
            #expect(config.tls.clientKey == .pem(Array("key".utf8)))
            #expect(config.token == .none)
        }
    }

    @Test func explicitUserAndClusterReplaceTheContexts() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.base, to: dir + "/config")
            try write("CA", to: dir + "/certs/ca.crt")
            try write("t", to: dir + "/token")
            let config = try KubeConfig.load(kubeconfig: dir + "/config", user: "certuser")
            #expect(config.contextName == "dev")
            #expect(config.namespace == "fma")
            #expect(config.tls.clientCertificate == .pem(Array("cert".utf8)))
            #expect(config.token == .none)
            #expect(throws: KubeConfigError.self) { try KubeConfig.load(kubeconfig: dir + "/config", user: "nobody") }
            do {
                _ = try KubeConfig.load(kubeconfig: dir + "/config", cluster: "elsewhere")
                Issue.record("an undefined --cluster was accepted")
            } catch let error as KubeConfigError {
                #expect(error.message == "--cluster: cluster \"elsewhere\" is not defined in \(dir)/config")
            }
        }
    }

    @Test func mergedFilesFirstDefinitionWins() async throws {
        try await withTemporaryDirectory { dir in
            try write("""
                current-context: a
                clusters:
                - name: c
                  cluster: {server: "https://first:1", insecure-skip-tls-verify: true}
                users:
                - name: u
                  user: {token: first-token}
                contexts:
                - name: a
                  context: {cluster: c, user: u}
                """, to: dir + "/one")
            try write("""
                current-context: b
                clusters:
                - name: c
                  cluster: {server: "https://second:2"}
                - name: d
                  cluster: {server: "https://d:3", certificate-authority-data: Q0E=}
                users:
                - name: u
                  user: {token: second-token}
                contexts:
                - name: b
                  context: {cluster: d, user: u, namespace: nb}
                """, to: dir + "/two")
            let environment = ["KUBECONFIG": "\(dir)/one:\(dir)/missing:\(dir)/two"]
            let paths = KubeConfig.defaultKubeconfigPaths(environment: environment)
            #expect(paths == ["\(dir)/one", "\(dir)/missing", "\(dir)/two"])
            let config = try KubeConfig.load(environment: environment)
            #expect(config.server == "https://first:1")
            #expect(config.tls.insecureSkipVerify)
            #expect(config.token == .value("first-token"))
            // A context from the second file, with the first file's user.
            let b = try KubeConfig.fromKubeconfig(paths: paths, context: "b")
            #expect(b.server == "https://d:3")
            #expect(b.tls.trustRoots == .pem(Array("CA".utf8)))
            #expect(b.token == .value("first-token"))
            #expect(b.namespace == "nb")
        }
    }

    @Test func loadPrefersInClusterOnlyWithoutKubeconfigHints() async throws {
        try await withTemporaryDirectory { dir in
            try write("""
                current-context: a
                clusters: [{name: c, cluster: {server: "http://h:1"}}]
                contexts: [{name: a, context: {cluster: c}}]
                """, to: dir + "/.kube/config")
            // No KUBECONFIG, no KUBERNETES_SERVICE_HOST: ~/.kube/config.
            let config = try KubeConfig.load(environment: ["HOME": dir])
            #expect(config.server == "http://h:1")
            // In a Pod (service host set), in-cluster is chosen; here it fails for want of a token.
            #expect(throws: KubeConfigError.self) {
                try KubeConfig.load(environment: ["HOME": dir, "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"])
            }
            // An explicit context means kubeconfig even in a Pod.
            let explicit = try KubeConfig.load(context: "a", environment: ["HOME": dir, "KUBERNETES_SERVICE_HOST": "10.0.0.1"])
            #expect(explicit.server == "http://h:1")
        }
    }

    @Test func errorsNameFileAndField() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/config"
            func error(_ text: String, context: String? = nil) throws -> String {
                try write(text, to: path)
                do {
                    _ = try KubeConfig.fromKubeconfig(paths: [path], context: context)
                    return ""
                } catch {
                    return error.message
                }
            }
            let missingFile = try error("""
                current-context: a
                clusters: [{name: c, cluster: {server: "https://h", certificate-authority: nope/ca.crt}}]
                contexts: [{name: a, context: {cluster: c}}]
                """)
            #expect(missingFile.contains(path))
            #expect(missingFile.contains("clusters[c].cluster.certificate-authority"))
            #expect(missingFile.contains(dir + "/nope/ca.crt"))

            let badBase64 = try error("""
                current-context: a
                clusters: [{name: c, cluster: {server: "https://h"}}]
                users: [{name: u, user: {client-certificate-data: "!!!", client-key-data: a2V5}}]
                contexts: [{name: a, context: {cluster: c, user: u}}]
                """)
            #expect(badBase64.contains("users[u].user.client-certificate-data"))

            let keyWithoutCert = try error("""
                current-context: a
                clusters: [{name: c, cluster: {server: "https://h"}}]
                users: [{name: u, user: {client-key-data: a2V5}}]
                contexts: [{name: a, context: {cluster: c, user: u}}]
                """)
            #expect(keyWithoutCert.contains("client-certificate"))

            let unknownContext = try error("""
                current-context: a
                contexts: [{name: a, context: {cluster: c}}]
                """, context: "zzz")
            #expect(unknownContext.contains("\"zzz\" is not defined"))

            let unknownCluster = try error("""
                current-context: a
                contexts: [{name: a, context: {cluster: c}}]
                """)
            #expect(unknownCluster.contains("contexts[a].context.cluster"))

            let noCurrent = try error("clusters: []")
            #expect(noCurrent.contains("no current-context"))

            let exec = try error("""
                current-context: a
                clusters: [{name: c, cluster: {server: "https://h"}}]
                users: [{name: u, user: {exec: {command: aws}}}]
                contexts: [{name: a, context: {cluster: c, user: u}}]
                """)
            #expect(exec.contains("users[u].user.exec: not supported"))

            let badServer = try error("""
                current-context: a
                clusters: [{name: c, cluster: {server: "h:6443"}}]
                contexts: [{name: a, context: {cluster: c}}]
                """)
            #expect(badServer.contains("clusters[c].cluster.server"))

            let notYAML = try error("clusters: [unclosed")
            #expect(notYAML.contains("not valid YAML"))
        }
        #expect(throws: KubeConfigError.self) { try KubeConfig.fromKubeconfig(paths: ["/nonexistent/kubeconfig"]) }
    }

    @Test func inClusterFromInjectedEnvironmentAndDirectory() async throws {
        try await withTemporaryDirectory { dir in
            try write("sa-token\n", to: dir + "/token")
            try write("CA", to: dir + "/ca.crt")
            try write("fma-system\n", to: dir + "/namespace")
            let v4 = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"],
                                              serviceAccountDirectory: dir)
            #expect(v4.server == "https://10.96.0.1:443")
            #expect(v4.namespace == "fma-system")
            #expect(v4.tls.trustRoots == .file(dir + "/ca.crt"))
            #expect(v4.token == .file(dir + "/token"))
            #expect(try v4.httpConfiguration.bearerToken?() == "sa-token")

            let v6 = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"],
                                              serviceAccountDirectory: dir)
            #expect(v6.server == "https://[fd00::1]:6443")

            try FileManager.default.removeItem(atPath: dir + "/namespace")
            let noNamespace = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "1"],
                                                       serviceAccountDirectory: dir)
            #expect(noNamespace.namespace == "default")

            #expect(throws: KubeConfigError.self) {
                try KubeConfig.inCluster(environment: [:], serviceAccountDirectory: dir)
            }
            #expect(throws: KubeConfigError.self) {
                try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "x"], serviceAccountDirectory: dir)
            }
            try FileManager.default.removeItem(atPath: dir + "/token")
            do {
                _ = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "1"], serviceAccountDirectory: dir)
                Issue.record("expected an error")
            } catch {
                #expect("\(error)".contains(dir + "/token"))
            }
        }
    }
}
