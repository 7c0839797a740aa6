import FMAJSON
import FMAKube
import FMAKubeModel
import FMATestSupport
import Foundation
import Testing

/// Secrets and ServiceAccounts through the project's Kubernetes client.
@Suite("API server: Secrets and ServiceAccounts")
struct SecretTests {
    @Test("stringData is folded into data (base64) on create and update; type defaults to Opaque")
    func stringDataFolded() async throws {
        try await withKubeClient { client in
            var secret = Secret(name: "creds", namespace: "default")
            secret.data = ["user": Data("admin".utf8)]
            secret.stringData = ["password": "s3cret", "user": "root"]
            let created = try await client.create(secret)
            #expect(created.type == "Opaque")
            #expect(created.json["stringData"] == nil)
            #expect(created.json["data"] == ["user": .string(Data("root".utf8).base64EncodedString()), "password": "czNjcmV0"])

            var changed = created
            changed.stringData = ["token": "t-1"]
            let updated = try await client.update(changed)
            #expect(updated.data["token"] == Data("t-1".utf8))
            #expect(updated.data["password"] == Data("s3cret".utf8))
            #expect(updated.json["stringData"] == nil)

            var typed = Secret(name: "tls", namespace: "default")
            typed.type = "kubernetes.io/tls"
            #expect(try await client.create(typed).type == "kubernetes.io/tls")
        }
    }

    @Test("a Secret's data must be base64 under config keys: 422 naming the field")
    func invalidData() async throws {
        try await withKubeClient { client in
            let cases: [(data: JSONValue, message: String)] = [
                (["k": "not base64!"], "data[k]: Invalid value: \"not base64!\": must be base64-encoded"),
                (["k": 7], "data[k]: Invalid value: 7: must be of type string"),
                (["bad key": "YQ=="], "data: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters"),
            ]
            for (index, check) in cases.enumerated() {
                var secret = Secret(name: "bad-\(index)", namespace: "default")
                secret.json["data"] = check.data
                do {
                    _ = try await client.create(secret)
                    Issue.record("data \(check.data.serializedString()) was accepted")
                } catch let error as KubeError {
                    #expect(error.isInvalid, "\(error)")
                    #expect(error.message.contains(check.message), "\(error.message)")
                }
            }
            var secret = Secret(name: "bad-string-data", namespace: "default")
            secret.json["stringData"] = ["k": 1]
            await #expect { try await client.create(secret) } throws: {
                ($0 as? KubeError)?.message.contains("stringData[k]: Invalid value: 1: must be of type string") == true
            }
        }
    }

    @Test("ServiceAccounts: create, get, list")
    func serviceAccounts() async throws {
        try await withKubeClient { client in
            var account = ServiceAccount(name: "fma-controller", namespace: "default")
            account.json["automountServiceAccountToken"] = false
            _ = try await client.create(account)
            let read = try await client.get(ServiceAccount.self, name: "fma-controller", namespace: "default")
            #expect(read.json["automountServiceAccountToken"] == false)
            #expect(try await client.list(ServiceAccount.self, namespace: "default").items.map(\.metadata.name) == ["default", "fma-controller"])
        }
    }
}

/// An in-process fma-devcluster and a client configured from the kubeconfig it wrote.
func withKubeClient(_ body: @Sendable (KubeClient) async throws -> Void) async throws {
    try await withRunningDevCluster { _, endpoints in
        let client = KubeClient(config: try KubeConfig.load(kubeconfig: endpoints.kubeconfigPath))
        do {
            try await body(client)
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
