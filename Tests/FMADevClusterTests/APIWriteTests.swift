import FMADevCluster
import FMAHTTPClient
import FMAJSON
import FMAKubeModel
import FMATestSupport
import Foundation
import Testing

/// Patches and admission over HTTPS.
@Suite("API server: patches and validation")
struct APIWriteTests {
    @Test("merge patch, JSON patch, strategic merge patch on built-in kinds; strategic on a custom resource and server-side apply are 415")
    func patches() async throws {
        try await withAPICluster { cluster in
            let path = "/api/v1/namespaces/default/configmaps"
            #expect(try await cluster.send(.post, path, json: configMapJSON("p", data: ["a": "1", "b": "2"])).status == 201)

            let merged = try await cluster.send(.patch, "\(path)/p", json: ["data": ["a": "10", "b": nil]], contentType: "application/merge-patch+json")
            #expect(merged.status == 200)
            #expect(merged.json?["data"] == ["a": "10"])

            let jsonPatched = try await cluster.send(.patch, "\(path)/p", json: [["op": "add", "path": "/data/c", "value": "3"]],
                                                     contentType: "application/json-patch+json")
            #expect(jsonPatched.json?["data"] == ["a": "10", "c": "3"])

            let failedTest = try await cluster.send(.patch, "\(path)/p", json: [["op": "test", "path": "/data/a", "value": "nope"]],
                                                    contentType: "application/json-patch+json")
            #expect(failedTest.status >= 400)
            #expect(failedTest.json?["kind"] == "Status")

            let strategic = try await cluster.send(.patch, "\(path)/p", json: ["metadata": ["labels": ["x": "y"]]],
                                                   contentType: "application/strategic-merge-patch+json")
            #expect(strategic.status == 200)
            #expect(strategic.json?[path: ["metadata", "labels"]] == ["x": "y"])

            let withList = try await cluster.send(.patch, "\(path)/p", json: ["metadata": ["finalizers": ["example.com/f"]]],
                                                  contentType: "application/strategic-merge-patch+json")
            #expect(withList.status == 200)
            #expect(withList.json?[path: ["metadata", "finalizers"]] == ["example.com/f"])
            let unlisted = try await cluster.send(.patch, "\(path)/p", json: ["metadata": ["$deleteFromPrimitiveList/finalizers": ["example.com/f"]]],
                                                  contentType: "application/strategic-merge-patch+json")
            #expect(unlisted.status == 200)
            #expect(unlisted.json?[path: ["metadata", "finalizers"]] == [])

            let custom = try await cluster.send(.patch, "/apis/fma.llm-d.ai/v1alpha1/namespaces/default/inferenceserverconfigs/x",
                                                json: ["spec": ["modelServerConfig": ["port": 8000]]], contentType: "application/strategic-merge-patch+json")
            #expect(custom.status == 415)
            #expect(custom.reason == "UnsupportedMediaType")
            #expect(custom.message.contains("custom resource") && custom.message.contains("--type=merge"))

            let apply = try await cluster.send(.patch, "\(path)/p", raw: "data: {a: b}", contentType: "application/apply-patch+yaml")
            #expect(apply.status == 415)
            #expect(apply.message.contains("server-side apply"))

            let badPatch = try await cluster.send(.patch, "\(path)/p", raw: "{not json", contentType: "application/merge-patch+json")
            #expect(badPatch.status == 400)

            #expect(try await cluster.send(.get, "\(path)/p").json?["data"] == ["a": "10", "c": "3"])
        }
    }

    @Test("FMA's custom resources are validated: 422 naming each invalid field")
    func fmaValidation() async throws {
        try await withAPICluster { cluster in
            let base = "/apis/fma.llm-d.ai/v1alpha1/namespaces/default"
            func isc(_ name: String, port: JSONValue, labels: JSONValue = [:]) -> JSONValue {
                ["apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "InferenceServerConfig", "metadata": ["name": .string(name)],
                 "spec": ["launcherConfigName": "lc", "modelServerConfig": ["port": port, "labels": labels]]]
            }
            #expect(try await cluster.send(.post, "\(base)/inferenceserverconfigs", json: isc("good", port: 8000)).status == 201)
            let badPort = try await cluster.send(.post, "\(base)/inferenceserverconfigs", json: isc("bad", port: 70000))
            #expect(badPort.status == 422)
            #expect(badPort.reason == "Invalid")
            #expect(badPort.json?[path: ["details", "causes"]]?.array?.first?["field"] == "spec.modelServerConfig.port")
            let badLabels = try await cluster.send(.post, "\(base)/inferenceserverconfigs",
                                                   json: isc("bad", port: 8000, labels: ["dual-pods.llm-d.ai/dual": "x", "ok": "not valid!"]))
            #expect(badLabels.status == 422)
            #expect(badLabels.json?[path: ["details", "causes"]]?.array?.count == 2)

            let lc: JSONValue = ["apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "LauncherConfig", "metadata": ["name": "lc"],
                                 "spec": ["maxInstances": 0]]
            let badLC = try await cluster.send(.post, "\(base)/launcherconfigs", json: lc)
            #expect(badLC.status == 422)
            #expect(badLC.message.contains("spec.maxInstances"))

            func lpp(_ entries: [(String, Int64)]) -> JSONValue {
                ["apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "LauncherPopulationPolicy", "metadata": ["name": "lpp"],
                 "spec": ["enhancedNodeSelector": ["labelSelector": ["matchLabels": ["gpu": "yes"]]],
                          "countForLauncher": .array(entries.map { ["launcherConfigName": .string($0.0), "launcherCount": .int($0.1)] })]]
            }
            let duplicate = try await cluster.send(.post, "\(base)/launcherpopulationpolicies", json: lpp([("a", 1), ("b", 2), ("a", 3)]))
            #expect(duplicate.status == 422)
            let cause = duplicate.json?[path: ["details", "causes"]]?.array?.first
            #expect(cause?["field"] == "spec.countForLauncher[2]")
            #expect(cause?["message"]?.string?.contains("Duplicate value") == true)
            #expect(try await cluster.send(.get, "\(base)/launcherpopulationpolicies/lpp").status == 404)

            let created = try await cluster.send(.post, "\(base)/launcherpopulationpolicies", json: lpp([("a", 1), ("b", 0)]))
            #expect(created.status == 201)
            // The same rule holds for patches: the object stays as it was.
            let patched = try await cluster.send(.patch, "\(base)/launcherpopulationpolicies/lpp",
                                                 json: [["op": "add", "path": "/spec/countForLauncher/-", "value": ["launcherConfigName": "b", "launcherCount": 1]]],
                                                 contentType: "application/json-patch+json")
            #expect(patched.status == 422)
            #expect(try await cluster.send(.get, "\(base)/launcherpopulationpolicies/lpp").json?[path: ["spec", "countForLauncher"]]?.array?.count == 2)
        }
    }

    @Test("unknown fields of FMA's custom resources: Strict is 400 naming each, Warn drops them with a Warning each (the default), Ignore drops them")
    func fmaUnknownFields() async throws {
        try await withAPICluster { cluster in
            let base = "/apis/fma.llm-d.ai/v1alpha1/namespaces/default/inferenceserverconfigs"
            func isc(_ name: String) -> JSONValue {
                ["apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "InferenceServerConfig", "metadata": ["name": .string(name)],
                 "spec": ["launcherConfigName": "lc", "extra": 1,
                          "modelServerConfig": ["port": 8000, "prot": 9, "labels": ["any-key": "v"], "env_vars": ["ANY": "x"]]]]
            }
            let strict = try await cluster.send(.post, "\(base)?fieldValidation=Strict", json: isc("strict"))
            #expect(strict.status == 400)
            #expect(strict.reason == "BadRequest")
            #expect(strict.message == #"InferenceServerConfig in version "v1alpha1" cannot be handled as a InferenceServerConfig: strict decoding error: unknown field "spec.extra", unknown field "spec.modelServerConfig.prot""#)
            #expect(try await cluster.send(.get, "\(base)/strict").status == 404)

            let warned = try await cluster.send(.post, base, json: isc("warned"))
            #expect(warned.status == 201)
            #expect(warned.headers.values(for: "Warning") == [#"299 - "unknown field \"spec.extra\"""#, #"299 - "unknown field \"spec.modelServerConfig.prot\"""#])
            let stored = try await cluster.send(.get, "\(base)/warned")
            #expect(stored.json?[path: ["spec", "extra"]] == nil)
            #expect(stored.json?[path: ["spec", "modelServerConfig"]] == ["port": 8000, "labels": ["any-key": "v"], "env_vars": ["ANY": "x"]])

            let ignored = try await cluster.send(.post, "\(base)?fieldValidation=Ignore", json: isc("ignored"))
            #expect(ignored.status == 201 && ignored.headers.values(for: "Warning").isEmpty)

            // A merge patch: the same rules; Strict leaves the object as it was.
            let strictPatch = try await cluster.send(.patch, "\(base)/warned?fieldValidation=Strict", json: ["spec": ["modelServerConfig": ["port": 8001, "bogus": 1]]],
                                                     contentType: "application/merge-patch+json")
            #expect(strictPatch.status == 400 && strictPatch.message.contains(#"unknown field "spec.modelServerConfig.bogus""#))
            #expect(try await cluster.send(.get, "\(base)/warned").json?[path: ["spec", "modelServerConfig", "port"]] == 8000)
            let warnedPatch = try await cluster.send(.patch, "\(base)/warned", json: ["spec": ["modelServerConfig": ["port": 8001, "bogus": 1]]],
                                                     contentType: "application/merge-patch+json")
            #expect(warnedPatch.status == 200 && warnedPatch.headers.values(for: "Warning").count == 1)
            #expect(warnedPatch.json?[path: ["spec", "modelServerConfig"]] == ["port": 8001, "labels": ["any-key": "v"], "env_vars": ["ANY": "x"]])
            #expect(try await cluster.send(.post, "\(base)?fieldValidation=Sloppy", json: isc("x")).status == 400)
        }
    }

    @Test("a built-in kind's unknown fields: Strict refuses a Pod with a misspelt field, Warn drops it with a warning, a strategic merge patch too")
    func builtInUnknownFields() async throws {
        try await withAPICluster { cluster in
            let base = "/api/v1/namespaces/default/pods"
            func pod(_ name: String) -> JSONValue {
                ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)],
                 "spec": ["restartPolicy": "Never", "nodeSelector": ["no-such": "node"],
                          "containers": [["name": "c", "image": "example/image:1", "envv": [["name": "A", "value": "1"]],
                                          "env": [["name": "B", "value": "2", "valueFrom2": 1]]]]]]
            }
            let strict = try await cluster.send(.post, "\(base)?fieldValidation=Strict", json: pod("strict"))
            #expect(strict.status == 400)
            #expect(strict.message == #"Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].envv", unknown field "spec.containers[0].env[0].valueFrom2""#)
            #expect(try await cluster.send(.get, "\(base)/strict").status == 404)

            let warned = try await cluster.send(.post, base, json: pod("warned"))
            #expect(warned.status == 201)
            #expect(warned.headers.values(for: "Warning").count == 2)
            let container = try await cluster.send(.get, "\(base)/warned").json?[path: ["spec", "containers"]]?.array?.first
            #expect(container?["envv"] == nil)
            #expect(container?["env"] == [["name": "B", "value": "2"]])

            // A strategic merge patch (kubectl apply's kind, with its $setElementOrder directive):
            // the patched Pod is judged, so directives pass and a misspelt field does not.
            let patch: JSONValue = ["metadata": ["labels": ["x": "y"]],
                                    "spec": ["$setElementOrder/containers": [["name": "c"]], "containers": [["name": "c", "imagePulPolicy": "Always"]]]]
            let strictPatch = try await cluster.send(.patch, "\(base)/warned?fieldValidation=Strict", json: patch, contentType: "application/strategic-merge-patch+json")
            #expect(strictPatch.status == 400 && strictPatch.message.hasSuffix(#"strict decoding error: unknown field "spec.containers[0].imagePulPolicy""#))
            #expect(try await cluster.send(.get, "\(base)/warned").json?[path: ["metadata", "labels", "x"]] == nil)
            let warnedPatch = try await cluster.send(.patch, "\(base)/warned", json: patch, contentType: "application/strategic-merge-patch+json")
            #expect(warnedPatch.status == 200 && warnedPatch.headers.values(for: "Warning") == [#"299 - "unknown field \"spec.containers[0].imagePulPolicy\"""#])
            #expect(warnedPatch.json?[path: ["metadata", "labels", "x"]] == "y")
            #expect(warnedPatch.json?[path: ["spec", "containers"]]?.array?.first?["imagePulPolicy"] == nil)
        }
    }

    @Test("built-in kinds: names, and a pod needs containers with names and images")
    func builtinValidation() async throws {
        try await withAPICluster { cluster in
            let badName = try await cluster.send(.post, "/api/v1/namespaces/default/configmaps", json: configMapJSON("Not_Valid"))
            #expect(badName.status == 422)
            #expect(badName.message.contains("metadata.name"))

            let noContainers: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "spec": ["containers": []]]
            #expect(try await cluster.send(.post, "/api/v1/namespaces/default/pods", json: noContainers).status == 422)
            let noImage: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "spec": ["containers": [["name": "c"]]]]
            let reply = try await cluster.send(.post, "/api/v1/namespaces/default/pods", json: noImage)
            #expect(reply.status == 422)
            #expect(reply.message.contains("spec.containers[0].image"))
            let namespace: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "has.dots"]]
            #expect(try await cluster.send(.post, "/api/v1/namespaces", json: namespace).status == 422)
        }
    }

    @Test("delete takes DeleteOptions from the body or the query; finalizers leave the object pending")
    func deleteOptions() async throws {
        try await withAPICluster { cluster in
            let path = "/api/v1/namespaces/default/configmaps"
            var object = try #require(configMapJSON("f").object)
            object[path: ["metadata", "finalizers"]] = ["example.com/hold"]
            #expect(try await cluster.send(.post, path, json: .object(object)).status == 201)
            let pending = try await cluster.send(.delete, "\(path)/f", json: ["kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"])
            #expect(pending.status == 200)
            #expect(pending.json?[path: ["metadata", "deletionTimestamp"]]?.string != nil)
            #expect(try await cluster.send(.get, "\(path)/f").status == 200)
            let released = try await cluster.send(.patch, "\(path)/f", json: ["metadata": ["finalizers": nil]], contentType: "application/merge-patch+json")
            #expect(released.status == 200)
            #expect(try await cluster.send(.get, "\(path)/f").status == 404)

            #expect(try await cluster.send(.delete, "\(path)/f?propagationPolicy=Sideways").status == 400)
            #expect(try await cluster.send(.delete, "\(path)/f", raw: "[1]").status == 400)
        }
    }
}
