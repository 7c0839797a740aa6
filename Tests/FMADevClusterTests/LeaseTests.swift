import FMAJSON
import FMAKube
import FMAKubeModel
import FMATestSupport
import Foundation
import Testing

/// coordination.k8s.io/v1 Leases through the project's Kubernetes client, as a controller's
/// leader election uses them.
@Suite("API server: Leases")
struct LeaseTests {
    @Test("create, get, list and renew a Lease; a stale update is 409")
    func lifecycle() async throws {
        try await withKubeClient { client in
            var lease = Lease(name: "fma-controller", namespace: "default")
            var spec = LeaseSpec()
            spec.holderIdentity = "replica-a"
            spec.leaseDurationSeconds = 15
            spec.acquireTime = KubeMicroTime.string(Date())
            spec.renewTime = spec.acquireTime
            spec.leaseTransitions = 0
            lease.spec = spec
            let created = try await client.create(lease)
            #expect(created.json["apiVersion"] == "coordination.k8s.io/v1")
            #expect(created.spec.holderIdentity == "replica-a")

            var renewed = try await client.get(Lease.self, name: "fma-controller", namespace: "default")
            renewed.spec.renewTime = KubeMicroTime.string(Date().addingTimeInterval(1))
            let afterRenewal = try await client.update(renewed)
            #expect(afterRenewal.metadata.resourceVersion != created.metadata.resourceVersion)

            // A second replica that read the lease before the renewal cannot take it over.
            var stale = created
            stale.spec.holderIdentity = "replica-b"
            await #expect { try await client.update(stale) } throws: { ($0 as? KubeError)?.isConflict == true }
            #expect(try await client.get(Lease.self, name: "fma-controller", namespace: "default").spec.holderIdentity == "replica-a")
            #expect(try await client.list(Lease.self, namespace: "default").items.map(\.metadata.name) == ["fma-controller"])
        }
    }

    @Test("a Lease's spec is validated field by field: 422 naming the field and the value")
    func validation() async throws {
        try await withKubeClient { client in
            let cases: [(field: String, value: JSONValue, message: String)] = [
                ("holderIdentity", 7, "spec.holderIdentity: Invalid value: 7: must be of type string"),
                ("leaseDurationSeconds", "15", "spec.leaseDurationSeconds: Invalid value: \"15\": must be of type integer"),
                ("leaseDurationSeconds", 0, "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"),
                ("leaseTransitions", -1, "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0"),
                ("renewTime", "yesterday", "spec.renewTime: Invalid value: \"yesterday\": must be an RFC 3339 time"),
                ("acquireTime", true, "spec.acquireTime: Invalid value: true: must be of type string"),
            ]
            for (index, check) in cases.enumerated() {
                var lease = Lease(name: "bad-\(index)", namespace: "default")
                lease.json["spec"] = .object([check.field: check.value])
                do {
                    _ = try await client.create(lease)
                    Issue.record("spec.\(check.field) = \(check.value.serializedString()) was accepted")
                } catch let error as KubeError {
                    #expect(error.isInvalid, "\(error)")
                    #expect(error.message.contains(check.message), "\(error.message)")
                }
            }
            var lease = Lease(name: "bad-spec", namespace: "default")
            lease.json["spec"] = "holder"
            await #expect { try await client.create(lease) } throws: {
                ($0 as? KubeError)?.message.contains("spec: Invalid value: \"holder\": must be of type object") == true
            }
        }
    }
}
