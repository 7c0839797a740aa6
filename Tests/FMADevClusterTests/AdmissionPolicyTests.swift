import FMAHTTPClient
import FMAJSON
import Testing

/// ValidatingAdmissionPolicies enforced through their bindings, with FMA's own policy text
/// (optional fields, `orValue`, the controller's ServiceAccount exempt by name).
@Suite struct AdmissionPolicyTests {
    private static let policies = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies"
    private static let bindings = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings"
    private static let pods = "/api/v1/namespaces/default/pods"

    private static func policy(_ name: String, expression: String, message: String? = nil, failurePolicy: String = "Fail",
                               operations: [JSONValue] = ["UPDATE"]) -> JSONValue {
        var validation: JSONObject = ["expression": .string(expression)]
        if let message { validation["message"] = .string(message) }
        return ["apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": ["name": .string(name)],
                "spec": ["failurePolicy": .string(failurePolicy),
                         "matchConstraints": ["resourceRules": [["apiGroups": [""], "apiVersions": ["v1"], "operations": .array(operations), "resources": ["pods"]]]],
                         "validations": [.object(validation)]]]
    }

    private static func binding(_ name: String, policy: String, actions: [JSONValue] = ["Deny"], namespace: String? = nil) -> JSONValue {
        var spec: JSONObject = ["policyName": .string(policy), "validationActions": .array(actions)]
        if let namespace { spec["matchResources"] = ["namespaceSelector": ["matchLabels": ["kubernetes.io/metadata.name": .string(namespace)]]] }
        return ["apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding", "metadata": ["name": .string(name)],
                "spec": .object(spec)]
    }

    /// FMA's fma-immutable-fields, shortened to two of its keys.
    private static let immutable = """
        request.userInfo.username.matches("^system:serviceaccount:[^:]+:[^:]*-fma-controllers$") ||
        (
          oldObject.metadata.?annotations['dual-pods.llm-d.ai/requester'].orValue('') == object.metadata.?annotations['dual-pods.llm-d.ai/requester'].orValue('') &&
          oldObject.metadata.?labels['dual-pods.llm-d.ai/dual'].orValue('') == object.metadata.?labels['dual-pods.llm-d.ai/dual'].orValue('')
        )
        """

    @Test("a policy's binding denies a write its validation fails, whatever the write's form; its exempt user, other fields and other namespaces pass")
    func denials() async throws {
        try await withAPICluster { cluster in
            let message = "One or more annotations/labels are managed by FMA controllers and cannot be modified directly."
            #expect(try await cluster.send(.post, Self.policies, json: Self.policy("fma-immutable-fields", expression: Self.immutable, message: message)).status == 201)
            #expect(try await cluster.send(.post, Self.bindings, json: Self.binding("bind-fma-immutable-fields", policy: "fma-immutable-fields", namespace: "default")).status == 201)
            let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod",
                                  "metadata": ["name": "p", "labels": ["dual-pods.llm-d.ai/dual": "r"], "annotations": ["dual-pods.llm-d.ai/requester": "u1 r"]],
                                  "spec": ["nodeSelector": ["no-such": "node"], "containers": [["name": "c", "image": "example/image:1"]]]]
            #expect(try await cluster.send(.post, Self.pods, json: pod).status == 201, "CREATE is not in the policy's rules")

            let patch: JSONValue = ["metadata": ["labels": ["dual-pods.llm-d.ai/dual": "other"]]]
            let denied = try await cluster.send(.patch, "\(Self.pods)/p", json: patch, contentType: "application/merge-patch+json")
            #expect(denied.status == 422 && denied.reason == "Invalid")
            #expect(denied.message == "pods \"p\" is forbidden: ValidatingAdmissionPolicy 'fma-immutable-fields' with binding 'bind-fma-immutable-fields' denied request: \(message)")
            #expect(denied.json?[path: ["details", "causes"]]?.array?.first?["message"]?.string?.hasPrefix("ValidatingAdmissionPolicy 'fma-immutable-fields'") == true)
            // A replacement (PUT) and a strategic merge patch that drops the label: denied too.
            var current = try #require(try await cluster.send(.get, "\(Self.pods)/p").json)
            current[path: ["metadata", "annotations", "dual-pods.llm-d.ai/requester"]] = "u2 x"
            #expect(try await cluster.send(.put, "\(Self.pods)/p", json: .object(current)).status == 422)
            let drop: JSONValue = ["metadata": ["labels": ["dual-pods.llm-d.ai/dual": nil]]]
            #expect(try await cluster.send(.patch, "\(Self.pods)/p", json: drop, contentType: "application/strategic-merge-patch+json").status == 422)
            #expect(try await cluster.send(.get, "\(Self.pods)/p").json?[path: ["metadata", "labels", "dual-pods.llm-d.ai/dual"]] == "r")

            // Another label is fine; so is the controller's account (by its name) changing these.
            let other: JSONValue = ["metadata": ["labels": ["team": "a"]]]
            #expect(try await cluster.send(.patch, "\(Self.pods)/p", json: other, contentType: "application/merge-patch+json").status == 200)
            var asController = HTTPClientHeaders()
            asController.add("Impersonate-User", "system:serviceaccount:default:fma-fma-controllers")
            asController.add("Impersonate-Group", "system:masters")
            #expect(try await cluster.send(.patch, "\(Self.pods)/p", json: patch, contentType: "application/merge-patch+json", headers: asController).status == 200)

            // Elsewhere: the binding's namespace selector does not take the namespace.
            #expect(try await cluster.send(.post, "/api/v1/namespaces", json: ["metadata": ["name": "elsewhere"]]).status == 201)
            let namespaced = try await cluster.send(.get, "/api/v1/namespaces/elsewhere")
            #expect(namespaced.json?[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] == "elsewhere")
            let elsewhere = "/api/v1/namespaces/elsewhere/pods"
            #expect(try await cluster.send(.post, elsewhere, json: pod).status == 201)
            #expect(try await cluster.send(.patch, "\(elsewhere)/p", json: patch, contentType: "application/merge-patch+json").status == 200)
        }
    }

    @Test("Warn warns; an expression that fails denies under failurePolicy Fail and is skipped under Ignore; DELETE rules; no message says the expression")
    func actionsAndFailures() async throws {
        try await withAPICluster { cluster in
            let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "labels": ["keep": "yes"]],
                                  "spec": ["nodeSelector": ["no-such": "node"], "containers": [["name": "c", "image": "example/image:1"]]]]
            #expect(try await cluster.send(.post, Self.pods, json: pod).status == 201)
            _ = try await cluster.send(.post, Self.policies, json: Self.policy("no-team", expression: "!has(object.metadata.labels.team)", message: "no team label"))
            _ = try await cluster.send(.post, Self.bindings, json: Self.binding("warn-no-team", policy: "no-team", actions: ["Warn"]))
            let team: JSONValue = ["metadata": ["labels": ["team": "a"]]]
            let warned = try await cluster.send(.patch, "\(Self.pods)/p", json: team, contentType: "application/merge-patch+json")
            #expect(warned.status == 200)
            #expect(warned.headers.values(for: "Warning").contains { $0.contains("Validation failed for ValidatingAdmissionPolicy 'no-team' with binding 'warn-no-team': no team label") })

            _ = try await cluster.send(.post, Self.policies, json: Self.policy("broken", expression: "object.metadata.nothing == 1"))
            _ = try await cluster.send(.post, Self.bindings, json: Self.binding("deny-broken", policy: "broken"))
            let broken = try await cluster.send(.patch, "\(Self.pods)/p", json: team, contentType: "application/merge-patch+json")
            #expect(broken.status == 422)
            #expect(broken.message.contains("expression 'object.metadata.nothing == 1' resulted in error: no such key: field 'nothing'"))
            _ = try await cluster.send(.delete, "\(Self.policies)/broken")
            _ = try await cluster.send(.post, Self.policies, json: Self.policy("broken", expression: "object.metadata.nothing == 1", failurePolicy: "Ignore"))
            #expect(try await cluster.send(.patch, "\(Self.pods)/p", json: team, contentType: "application/merge-patch+json").status == 200)

            _ = try await cluster.send(.post, Self.policies, json: Self.policy("keep", expression: "oldObject.metadata.labels['keep'] != 'yes'", operations: ["DELETE"]))
            _ = try await cluster.send(.post, Self.bindings, json: Self.binding("deny-keep", policy: "keep"))
            let kept = try await cluster.send(.delete, "\(Self.pods)/p")
            #expect(kept.status == 422)
            #expect(kept.message.hasSuffix("denied request: failed expression: oldObject.metadata.labels['keep'] != 'yes'"))
        }
    }
}
