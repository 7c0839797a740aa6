import FMADevCluster
import FMAHTTPClient
import FMAJSON
import FMAKubeModel
import FMATestSupport
import Foundation
import Testing

/// fma-devcluster's API server over real HTTPS: discovery, authentication, errors, objects.
@Suite("API server")
struct APIServerTests {
    @Test("discovery lists the served groups, resources and subresources")
    func discovery() async throws {
        try await withAPICluster { cluster in
            let api = try await cluster.send(.get, "/api")
            #expect(api.status == 200)
            #expect(api.json?["versions"] == ["v1"])

            let core = try #require(try await cluster.send(.get, "/api/v1").json)
            let coreNames = core["resources"]?.array?.compactMap { $0["name"]?.string } ?? []
            #expect(coreNames.contains("pods") && coreNames.contains("pods/status") && coreNames.contains("configmaps"))
            #expect(coreNames.contains("secrets") && coreNames.contains("serviceaccounts"))
            let pods = core["resources"]?.array?.first { $0["name"]?.string == "pods" }
            #expect(pods?["shortNames"] == ["po"])
            #expect(pods?["namespaced"] == true)
            #expect(pods?["verbs"]?.array?.contains("watch") == true)

            let groups = try #require(try await cluster.send(.get, "/apis").json)
            let groupNames = groups["groups"]?.array?.compactMap { $0["name"]?.string } ?? []
            #expect(groupNames == ["apps", "coordination.k8s.io", "fma.llm-d.ai", "rbac.authorization.k8s.io", "networking.k8s.io",
                                   "apiextensions.k8s.io", "admissionregistration.k8s.io", "events.k8s.io", "metrics.k8s.io"])
            // metrics.k8s.io is listed read-only so kubectl top asks, and is answered 503.
            let metrics = try #require(try await cluster.send(.get, "/apis/metrics.k8s.io/v1beta1").json)
            #expect(metrics["resources"]?.array?.first?["verbs"] == ["get", "list"])
            let podMetrics = try await cluster.send(.get, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods")
            #expect(podMetrics.status == 503 && podMetrics.reason == "ServiceUnavailable")
            let coordination = try #require(try await cluster.send(.get, "/apis/coordination.k8s.io/v1").json)
            let leases = coordination["resources"]?.array?.first { $0["name"]?.string == "leases" }
            #expect(leases?["kind"] == "Lease" && leases?["namespaced"] == true && leases?["singularName"] == "lease")

            let apps = try #require(try await cluster.send(.get, "/apis/apps/v1").json)
            let appsNames = apps["resources"]?.array?.compactMap { $0["name"]?.string } ?? []
            #expect(["deployments", "deployments/scale", "daemonsets", "daemonsets/status"].allSatisfy(appsNames.contains), "\(appsNames)")
            let scale = apps["resources"]?.array?.first { $0["name"]?.string == "replicasets/scale" }
            #expect(scale?["group"] == "autoscaling")
            #expect(scale?["version"] == "v1")
            #expect(scale?["kind"] == "Scale")

            let fma = try #require(try await cluster.send(.get, "/apis/fma.llm-d.ai/v1alpha1").json)
            let lpp = fma["resources"]?.array?.first { $0["name"]?.string == "launcherpopulationpolicies" }
            #expect(lpp?["kind"] == "LauncherPopulationPolicy")
            #expect(lpp?["shortNames"] == ["lpp"])
            #expect(lpp?["singularName"] == "launcherpopulationpolicy")

            let version = try await cluster.send(.get, "/version")
            #expect(version.json?["major"] == "1")
            #expect(try await cluster.send(.get, "/healthz").text == "ok")
        }
    }

    @Test("a client asking for aggregated discovery gets plain JSON and falls back")
    func aggregatedDiscoveryFallsBack() async throws {
        try await withAPICluster { cluster in
            let reply = try await cluster.send(.get, "/apis", headers: [
                "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;q=0.9",
            ])
            #expect(reply.status == 200)
            #expect(reply.headers.first("Content-Type") == "application/json")
            #expect(reply.json?["kind"] == "APIGroupList")
        }
    }

    @Test("OpenAPI v3 advertises fieldValidation on every kind's PATCH")
    func openAPI() async throws {
        try await withAPICluster { cluster in
            let root = try #require(try await cluster.send(.get, "/openapi/v3").json)
            let url = try #require(root[path: ["paths", "apis/fma.llm-d.ai/v1alpha1", "serverRelativeURL"]]?.string)
            let document = try #require(try await cluster.send(.get, url).json)
            let patch = document[path: ["paths", "/apis/fma.llm-d.ai/v1alpha1/namespaces/{namespace}/inferenceserverconfigs/{name}", "patch"]]
            #expect(patch?["x-kubernetes-group-version-kind"]?["kind"] == "InferenceServerConfig")
            #expect(patch?["parameters"]?.array?.contains { $0["name"] == "fieldValidation" } == true)
            // The same in Swagger 2.0 form, for tools that read only /openapi/v2.
            let swagger = try #require(try await cluster.send(.get, "/openapi/v2").json)
            #expect(swagger["swagger"] == "2.0" && swagger["definitions"] != nil)
            let v2Patch = swagger[path: ["paths", "/api/v1/namespaces/{namespace}/pods/{name}", "patch"]]
            #expect(v2Patch?["x-kubernetes-group-version-kind"]?["kind"] == "Pod")
            #expect(v2Patch?["parameters"]?.array?.contains { $0["name"] == "fieldValidation" && $0["type"] == "string" } == true)
            // Each kind has a schema naming its top-level fields, found by its group-version-kind.
            let schemas = document[path: ["components", "schemas"]]?.object ?? [:]
            let isc = schemas.first { $0.value["x-kubernetes-group-version-kind"]?.array?.first?["kind"] == "InferenceServerConfig" }
            #expect(isc?.value[path: ["properties", "spec", "type"]] == "object")
            // Asked for as protobuf (as client-go asks), /openapi/v2 is protobuf.
            let protobuf = try await cluster.send(.get, "/openapi/v2", headers: ["Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"])
            #expect(protobuf.status == 200)
            #expect(protobuf.headers.first("Content-Type") == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            #expect(protobuf.text.utf8.first == 0x0a)  // field 1 (swagger), length-delimited
            #expect(protobuf.text.contains("x-kubernetes-group-version-kind"))
        }
    }

    @Test("every request needs the bearer token: 401 Status without it or with a wrong one")
    func unauthorized() async throws {
        try await withAPICluster { cluster in
            for token: String? in [nil, "wrong", String(cluster.cluster.credentials.token.dropLast())] {
                let reply = try await cluster.send(.get, "/api/v1/namespaces", token: .some(token))
                #expect(reply.status == 401)
                #expect(reply.json?["kind"] == "Status")
                #expect(reply.reason == "Unauthorized")
            }
            #expect(try await cluster.send(.get, "/api/v1/namespaces").status == 200)
        }
    }

    @Test("failures are Status objects: unknown paths 404, wrong methods 405, large bodies 413, bad input 400")
    func errorsAreStatus() async throws {
        try await withAPICluster(configure: { $0.api.maxBodyBytes = 4096 }) { cluster in
            let unknown = try await cluster.send(.get, "/api/v1/widgets")
            #expect(unknown.status == 404)
            #expect(unknown.reason == "NotFound")
            let deep = try await cluster.send(.get, "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o")
            #expect(deep.status == 404)
            #expect(deep.json?["kind"] == "Status")
            let missing = try await cluster.send(.get, "/api/v1/namespaces/default/configmaps/nothing")
            #expect(missing.status == 404)
            #expect(missing.message.contains("\"nothing\" not found"))

            let post = try await cluster.send(.post, "/api/v1/namespaces/default/configmaps/x", json: configMapJSON("x"))
            #expect(post.status == 405)
            #expect(post.reason == "MethodNotAllowed")

            let big = try await cluster.send(.post, "/api/v1/namespaces/default/configmaps",
                                             json: configMapJSON("big", data: ["k": String(repeating: "x", count: 10_000)]))
            #expect(big.status == 413)
            #expect(big.reason == "RequestEntityTooLarge")

            let badJSON = try await cluster.send(.post, "/api/v1/namespaces/default/configmaps", raw: "{\"metadata\": ")
            #expect(badJSON.status == 400)
            #expect(badJSON.message.contains("not valid JSON"))

            let badSelector = try await cluster.send(.get, "/api/v1/pods?labelSelector=a%20in%20b")
            #expect(badSelector.status == 400)
            #expect(badSelector.message.contains("labelSelector"))

            let wrongKind = try await cluster.send(.post, "/api/v1/namespaces/default/configmaps",
                                                   json: ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"]])
            #expect(wrongKind.status == 400)
            #expect(wrongKind.message.contains("ConfigMap"))

            let yaml = try await cluster.send(.post, "/api/v1/namespaces/default/configmaps", raw: "kind: ConfigMap", contentType: "application/yaml")
            #expect(yaml.status == 415)
        }
    }

    @Test("create, get, list with selectors and paging, update, delete")
    func crud() async throws {
        try await withAPICluster { cluster in
            let path = "/api/v1/namespaces/default/configmaps"
            let created = try await cluster.send(.post, path, json: configMapJSON("one", data: ["a": "1"], labels: ["tier": "web"]))
            #expect(created.status == 201)
            let uid = try #require(created.json?[path: ["metadata", "uid"]]?.string)
            #expect(!uid.isEmpty)
            #expect(try await cluster.send(.post, path, json: configMapJSON("two", labels: ["tier": "db"])).status == 201)
            #expect(try await cluster.send(.post, path, json: configMapJSON("three", labels: ["tier": "web"])).status == 201)

            let again = try await cluster.send(.post, path, json: configMapJSON("one"))
            #expect(again.status == 409)
            #expect(again.reason == "AlreadyExists")

            let got = try await cluster.send(.get, "\(path)/one")
            #expect(got.json?["data"] == ["a": "1"])

            let web = try #require(try await cluster.send(.get, "\(path)?labelSelector=tier%3Dweb").json)
            #expect(web["kind"] == "ConfigMapList")
            #expect(web["apiVersion"] == "v1")
            #expect(web[path: ["metadata", "resourceVersion"]]?.string?.isEmpty == false)
            #expect(Set(web["items"]?.array?.compactMap { $0[path: ["metadata", "name"]]?.string } ?? []) == ["one", "three"])

            let byName = try #require(try await cluster.send(.get, "\(path)?fieldSelector=metadata.name%3Dtwo").json)
            #expect(byName["items"]?.array?.count == 1)
            // A field the kind cannot be selected by is a 400 naming it, not an empty list.
            let unsupported = try await cluster.send(.get, "\(path)?fieldSelector=data.a%3D1")
            #expect(unsupported.status == 400)
            #expect(unsupported.json?["message"]?.string?.contains("field label not supported: data.a") == true)

            let firstPage = try #require(try await cluster.send(.get, "\(path)?limit=2").json)
            #expect(firstPage["items"]?.array?.count == 2)
            let token = try #require(firstPage[path: ["metadata", "continue"]]?.string)
            let secondPage = try #require(try await cluster.send(.get, "\(path)?limit=2&continue=\(token)").json)
            #expect(secondPage["items"]?.array?.count == 1)

            var object = try #require(got.json)
            object["data"] = ["a": "2"]
            let updated = try await cluster.send(.put, "\(path)/one", json: .object(object))
            #expect(updated.status == 200)
            #expect(updated.json?["data"] == ["a": "2"])

            let deleted = try await cluster.send(.delete, "\(path)/one")
            #expect(deleted.status == 200)
            #expect(try await cluster.send(.get, "\(path)/one").status == 404)

            let all = try #require(try await cluster.send(.delete, "\(path)?labelSelector=tier%3Ddb").json)
            #expect(all["items"]?.array?.count == 1)
            #expect(try await cluster.send(.get, "\(path)/two").status == 404)
            #expect(try await cluster.send(.get, "\(path)/three").status == 200)
        }
    }

    @Test("an update carrying a stale resourceVersion is a 409 Conflict")
    func staleUpdateConflicts() async throws {
        try await withAPICluster { cluster in
            let path = "/api/v1/namespaces/default/configmaps"
            let created = try #require(try await cluster.send(.post, path, json: configMapJSON("c", data: ["v": "0"])).json)
            var first = created
            first["data"] = ["v": "1"]
            #expect(try await cluster.send(.put, "\(path)/c", json: .object(first)).status == 200)
            var stale = created
            stale["data"] = ["v": "2"]
            let conflict = try await cluster.send(.put, "\(path)/c", json: .object(stale))
            #expect(conflict.status == 409)
            #expect(conflict.reason == "Conflict")
            #expect(try await cluster.send(.get, "\(path)/c").json?["data"] == ["v": "1"])
        }
    }

    @Test("dry runs check and change nothing")
    func dryRun() async throws {
        try await withAPICluster { cluster in
            let path = "/api/v1/namespaces/default/configmaps"
            let dry = try await cluster.send(.post, "\(path)?dryRun=All", json: configMapJSON("dry"))
            #expect(dry.status == 201)
            #expect(try await cluster.send(.get, "\(path)/dry").status == 404)
            #expect(try await cluster.send(.post, "\(path)?dryRun=Maybe", json: configMapJSON("dry")).status == 400)
        }
    }

    @Test("a pod answers as a Table when kubectl asks for one")
    func table() async throws {
        try await withAPICluster { cluster in
            let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"],
                                  "spec": ["containers": [["name": "c", "image": "busybox"]]]]
            #expect(try await cluster.send(.post, "/api/v1/namespaces/default/pods", json: pod).status == 201)
            let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
            let table = try #require(try await cluster.send(.get, "/api/v1/namespaces/default/pods", headers: ["Accept": accept]).json)
            #expect(table["kind"] == "Table")
            #expect(table["apiVersion"] == "meta.k8s.io/v1")
            let columns = table["columnDefinitions"]?.array?.compactMap { $0["name"]?.string }
            #expect(columns == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node"])
            let row = try #require(table["rows"]?.array?.first)
            #expect(row["cells"]?.array?.prefix(4).map { $0 } == ["p", "0/1", "Pending", "0"])
            #expect(row["object"]?["kind"] == "PartialObjectMetadata")
            #expect(table[path: ["metadata", "resourceVersion"]]?.string?.isEmpty == false)

            let plain = try #require(try await cluster.send(.get, "/api/v1/namespaces/default/pods/p").json)
            #expect(plain["kind"] == "Pod")
            let protobufOnly = try await cluster.send(.get, "/api/v1/namespaces/default/pods/p", headers: ["Accept": "application/vnd.kubernetes.protobuf"])
            #expect(protobufOnly.status == 406)
        }
    }

    @Test("the scale subresource reads and sets a ReplicaSet's spec.replicas")
    func scale() async throws {
        try await withAPICluster { cluster in
            let rs: JSONValue = [
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": "web"],
                "spec": ["replicas": 1, "selector": ["matchLabels": ["app": "web"]],
                         "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "c", "image": "nginx"]]]]],
            ]
            let path = "/apis/apps/v1/namespaces/default/replicasets"
            #expect(try await cluster.send(.post, path, json: rs).status == 201)
            let scale = try #require(try await cluster.send(.get, "\(path)/web/scale").json)
            #expect(scale["kind"] == "Scale")
            #expect(scale["apiVersion"] == "autoscaling/v1")
            #expect(scale[path: ["spec", "replicas"]] == 1)
            #expect(scale[path: ["status", "selector"]] == "app=web")

            let patched = try await cluster.send(.patch, "\(path)/web/scale", json: ["spec": ["replicas": 3]], contentType: "application/merge-patch+json")
            #expect(patched.json?[path: ["spec", "replicas"]] == 3)
            #expect(try await cluster.send(.get, "\(path)/web").json?[path: ["spec", "replicas"]] == 3)

            var put = scale
            put["spec"] = ["replicas": 5]
            put["metadata"] = .object((put["metadata"]?.object ?? [:]).merging(["resourceVersion": "1"]))
            let stale = try await cluster.send(.put, "\(path)/web/scale", json: .object(put))
            #expect(stale.status == 409)
            let negative = try await cluster.send(.patch, "\(path)/web/scale", json: ["spec": ["replicas": -1]], contentType: "application/merge-patch+json")
            #expect(negative.status == 422)
            #expect(try await cluster.send(.get, "\(path)/web").json?[path: ["spec", "replicas"]] == 3)
        }
    }
}

extension JSONObject {
    /// This object with `other`'s members set.
    func merging(_ other: JSONObject) -> JSONObject {
        var result = self
        for (key, value) in other { result[key] = value }
        return result
    }
}
