@testable import FMAKube
import FMAJSON
import FMAKubeModel
import Foundation
import Testing

@Suite("client pieces")
struct ClientPiecesTests {
    @Test("recent events forget the least recently used first, and repeated uses do not grow without bound")
    func recentEventsAreLRU() {
        let recent = RecentEvents(capacity: 3)
        func key(_ name: String) -> RecentEvents.Key { .init(uid: name, object: "ns/\(name)", type: "Normal", reason: "R", message: "m") }
        for name in ["a", "b", "c"] { recent.put(key(name), name: name, namespace: "ns", count: 1) }
        #expect(recent.get(key("a"))?.name == "a")
        recent.put(key("d"), name: "d", namespace: "ns", count: 1)
        #expect(recent.get(key("b")) == nil, "b was the least recently used")
        recent.put(key("e"), name: "e", namespace: "ns", count: 1)
        #expect(recent.get(key("c")) == nil)
        #expect(recent.get(key("a"))?.name == "a" && recent.get(key("d")) != nil && recent.get(key("e")) != nil)
        for _ in 0..<10_000 { _ = recent.get(key("a")) }
        recent.put(key("f"), name: "f", namespace: "ns", count: 1)
        #expect(recent.count == 3)
        #expect(recent.get(key("a")) != nil, "a, used most, stays")
        #expect(recent.get(key("d")) == nil, "d was the least recently used")
    }

    @Test func errorStatusFromBodyOrCode() {
        let body = Array(#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"x\" already exists","reason":"AlreadyExists","code":409}"#.utf8)
        let exists = KubeError.api(KubeClient.status(of: 409, body: body), request: "POST /api/v1/namespaces/d/pods")
        #expect(exists.isAlreadyExists)
        #expect(!exists.isConflict)
        #expect(exists.description.contains("already exists"))

        let conflict = KubeError.api(KubeClient.status(of: 409, body: Array("conflict!".utf8)), request: "PUT x")
        #expect(conflict.isConflict)
        #expect(conflict.status?.message == "conflict!")

        #expect(KubeError.api(KubeClient.status(of: 404, body: []), request: "GET x").isNotFound)
        #expect(KubeError.api(KubeClient.status(of: 410, body: []), request: "GET x").isGone)
        #expect(KubeError.api(KubeClient.status(of: 422, body: []), request: "GET x").isInvalid)
        #expect(KubeClient.status(of: 503, body: []).reason == .serviceUnavailable)
    }

    @Test func queryEncoding() {
        #expect(queryString([]) == "")
        #expect(queryString([("labelSelector", "app in (a,b),!legacy"), ("limit", "5")])
            == "?labelSelector=app%20in%20%28a%2Cb%29%2C%21legacy&limit=5")
        #expect(percentEncoded("ünï/code") == "%C3%BCn%C3%AF%2Fcode")
    }

    @Test func patchDocumentsAndContentTypes() throws {
        var old = Pod(name: "p", namespace: "d")
        old.metadata.labels = ["a": "1", "b": "2"]
        var new = old
        new.metadata.labels = ["a": "1", "c": "3"]
        let merge = KubePatch.merge(from: old, to: new)
        #expect(merge.contentType == "application/merge-patch+json")
        #expect(merge.document == ["metadata": ["labels": ["b": nil, "c": "3"]]])

        let jsonPatch = KubePatch.json(JSONPatch([
            .test(path: try JSONPointer(parsing: "/metadata/resourceVersion"), value: "7"),
            .add(path: try JSONPointer(parsing: "/metadata/labels/a~1b"), value: "x"),
            .remove(path: try JSONPointer(parsing: "/spec/nodeName")),
        ]))
        #expect(jsonPatch.contentType == "application/json-patch+json")
        let document = jsonPatch.document
        #expect(document.array?.count == 3)
        #expect(document.array?[1]["path"] == "/metadata/labels/a~1b")
        // What we send parses back as the same patch.
        if case .json(let patch) = jsonPatch { #expect(try JSONPatch(parsing: document) == patch) }
        #expect(KubePatch.strategicMerge(["spec": [:]]).contentType == "application/strategic-merge-patch+json")
    }

    @Test func deleteOptionsBody() {
        let options = DeleteOptions(preconditionUID: "u-1", preconditionResourceVersion: "9", propagationPolicy: .foreground, gracePeriodSeconds: 0)
        let json = options.json
        #expect(json["preconditions"] == ["uid": "u-1", "resourceVersion": "9"])
        #expect(json["propagationPolicy"] == "Foreground")
        #expect(json["gracePeriodSeconds"] == 0)
        #expect(DeleteOptions().json["preconditions"] == nil)
    }

    @Test func eventAboutAnObject() {
        var pod = Pod(name: "req-1", namespace: "fma")
        pod.metadata.uid = "uid-1"
        pod.metadata.resourceVersion = "12"
        let date = Date(timeIntervalSince1970: 1_700_000_000.5)
        let event = EventRecorder.event(about: pod, type: .warning, reason: "NoLauncher", message: "no launcher fits",
                                        component: "fma-controller", instance: "ctl-0", at: date)
        #expect(event.metadata.namespace == "fma")
        #expect(event.metadata.name.hasPrefix("req-1."))
        #expect(event.involvedObject.name == "req-1")
        #expect(event.involvedObject.uid == "uid-1")
        #expect(event.involvedObject.kind == "Pod")
        #expect(event.involvedObject.apiVersion == "v1")
        #expect(event.type == "Warning")
        #expect(event.reason == "NoLauncher")
        #expect(event.count == 1)
        #expect(event.firstTimestamp == "2023-11-14T22:13:20Z")
        #expect(event.sourceComponent == "fma-controller")
        #expect(event.reportingComponent == "fma-controller")
        #expect(event.reportingInstance == "ctl-0")
        // A cluster-scoped object's events go to `default`.
        let nodeEvent = EventRecorder.event(about: Node(name: "n"), type: .normal, reason: "R", message: "m",
                                            component: "c", instance: "i", at: date)
        #expect(nodeEvent.metadata.namespace == "default")
    }

    @Test func kindResolution() throws {
        let client = KubeClient(config: KubeConfig(server: "http://127.0.0.1:1", namespace: "home"))
        #expect(try client.resolveKind(Pod.self, nil) == .pod)
        #expect(try client.resolveKind(UnstructuredObject.self, .launcherConfig) == .launcherConfig)
        var object = UnstructuredObject(json: ["apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "InferenceServerConfig"])
        #expect(try client.resolveKind(UnstructuredObject.self, nil, object: object) == .inferenceServerConfig)
        object.json["kind"] = "Mystery"
        #expect(throws: KubeError.self) { try client.resolveKind(UnstructuredObject.self, nil, object: object) }
        #expect(client.namespace(nil, for: .pod) == "home")
        #expect(client.namespace("x", for: .pod) == "x")
        #expect(client.namespace("x", for: .node) == nil)
    }

    @Test func transportFailureIsTyped() async throws {
        // Nothing listens on port 1: the error is a transport error, not a crash or a hang.
        let client = KubeClient(config: KubeConfig(server: "http://127.0.0.1:1"))
        do {
            _ = try await client.get(Pod.self, name: "x")
            Issue.record("expected a failure")
        } catch {
            #expect(error.code == .transport)
            #expect(error.status == nil)
        }
        await client.shutdown()
    }
}

@Suite("configuration output")
struct ConfigDescriptionTests {
    @Test func tokensNeverPrinted() {
        let config = KubeConfig(server: "https://h:6443", token: .value("s3cret-token"), namespace: "fma", contextName: "dev", source: "/k")
        #expect(!"\(config)".contains("s3cret"))
        #expect(!String(reflecting: config.token).contains("s3cret"))
        #expect("\(config)" == "https://h:6443 (context dev, token, namespace fma, from /k)")
    }
}

@Suite("paging")
struct PagingTests {
    @Test("a server that repeats a continue token ends the paging with an error instead of looping")
    func repeatedTokenStops() async throws {
        let calls = Locked(0)
        do {
            _ = try await collectPages { (_: String?) throws(KubeError) -> ObjectList<ConfigMap> in
                calls.withLock { $0 += 1 }
                return ObjectList(items: [ConfigMap(name: "x", namespace: "default")], resourceVersion: "1", continueToken: "same")
            }
            Issue.record("paging must stop")
        } catch {
            #expect(error.message.contains("repeated"))
        }
        #expect(calls.withLock { $0 } == 2)
    }
}
