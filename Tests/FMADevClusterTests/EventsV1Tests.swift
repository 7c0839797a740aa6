import FMAJSON
import FMATestSupport
import Testing

/// `events.k8s.io/v1` Events: the same objects as core Events, under the newer field names.
@Suite("API server: events.k8s.io/v1 Events")
struct EventsV1Tests {
    static let newPath = "/apis/events.k8s.io/v1/namespaces/default/events"
    static let corePath = "/api/v1/namespaces/default/events"

    static func event(_ name: String, regarding pod: String = "p1") -> JSONValue {
        [
            "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": .string(name)],
            "eventTime": "2026-12-06T04:00:00.000000Z", "reportingController": "example.com/scheduler",
            "reportingInstance": "scheduler-1", "action": "Binding", "reason": "Scheduled", "type": "Normal",
            "note": "assigned default/p1 to node-1",
            "regarding": ["apiVersion": "v1", "kind": "Pod", "name": .string(pod), "namespace": "default"],
        ]
    }

    @Test("an Event created through either API reads through both, with each API's field names")
    func sameObjects() async throws {
        try await withAPICluster { cluster in
            let created = try await cluster.send(.post, Self.newPath, json: Self.event("e1"))
            #expect(created.status == 201, "\(created.text)")
            #expect(created.json?["apiVersion"] == "events.k8s.io/v1")
            #expect(created.json?["note"] == "assigned default/p1 to node-1")

            let core = try await cluster.send(.get, "\(Self.corePath)/e1")
            #expect(core.json?["apiVersion"] == "v1")
            #expect(core.json?["message"] == "assigned default/p1 to node-1")
            #expect(core.json?[path: ["involvedObject", "name"]] == "p1")
            #expect(core.json?["reportingComponent"] == "example.com/scheduler")
            #expect(core.json?["note"] == nil && core.json?["regarding"] == nil)

            let coreEvent: JSONValue = [
                "apiVersion": "v1", "kind": "Event", "metadata": ["name": "e2"], "reason": "Pulled", "type": "Normal",
                "message": "pulled", "count": 3, "source": ["component": "kubelet"],
                "involvedObject": ["kind": "Pod", "name": "p2", "namespace": "default"],
            ]
            #expect(try await cluster.send(.post, Self.corePath, json: coreEvent).status == 201)
            let list = try await cluster.send(.get, Self.newPath)
            #expect(list.json?["kind"] == "EventList")
            #expect(list.json?["apiVersion"] == "events.k8s.io/v1")
            let second = list.json?["items"]?.array?.first { $0[path: ["metadata", "name"]] == "e2" }
            #expect(second?["deprecatedCount"] == 3)
            #expect(second?[path: ["deprecatedSource", "component"]] == "kubelet")
            #expect(second?[path: ["regarding", "name"]] == "p2")
        }
    }

    @Test("field selectors use the newer names; patches apply to the newer form; a watch shows it")
    func selectorsPatchesWatches() async throws {
        try await withAPICluster { cluster in
            #expect(try await cluster.send(.post, Self.newPath, json: Self.event("e1")).status == 201)
            #expect(try await cluster.send(.post, Self.newPath, json: Self.event("e3", regarding: "p3")).status == 201)

            let selected = try await cluster.send(.get, "\(Self.newPath)?fieldSelector=regarding.name%3Dp1")
            #expect(selected.json?["items"]?.array?.map { $0[path: ["metadata", "name"]] } == ["e1"])
            let oldName = try await cluster.send(.get, "\(Self.newPath)?fieldSelector=involvedObject.name%3Dp1")
            #expect(oldName.status == 400)
            #expect(oldName.message.contains("regarding.name"))

            let rv = selected.json?[path: ["metadata", "resourceVersion"]]?.string ?? ""
            let watch = try await WatchReader(cluster, "\(Self.newPath)?watch=true&resourceVersion=\(rv)")
            let patched = try await cluster.send(.patch, "\(Self.newPath)/e1", json: ["series": ["count": 2, "lastObservedTime": "2026-12-06T04:01:00.000000Z"], "note": "again"],
                                                 contentType: "application/strategic-merge-patch+json")
            #expect(patched.status == 200, "\(patched.text)")
            #expect(patched.json?[path: ["series", "count"]] == 2)
            #expect(try await cluster.send(.get, "\(Self.corePath)/e1").json?["message"] == "again")
            let seen = try await watch.next(1)
            #expect(seen.first?["type"] == "MODIFIED")
            #expect(seen.first?[path: ["object", "note"]] == "again")
            #expect(seen.first?[path: ["object", "apiVersion"]] == "events.k8s.io/v1")
            watch.cancel()

            let missing = try await cluster.send(.get, "\(Self.newPath)/nope")
            #expect(missing.status == 404)
            #expect(missing.message == "events.events.k8s.io \"nope\" not found")
            #expect(try await cluster.send(.delete, "\(Self.newPath)/e3").status == 200)
            #expect(try await cluster.send(.get, "\(Self.corePath)/e3").status == 404)
        }
    }

    @Test("creating through events.k8s.io/v1 needs what that API requires: 422 naming each field")
    func createValidation() async throws {
        try await withAPICluster { cluster in
            let bad: JSONValue = [
                "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "bad"], "type": "Odd",
                "deprecatedCount": 3, "regarding": ["kind": "Pod", "name": "p1"],
            ]
            let reply = try await cluster.send(.post, Self.newPath, json: bad)
            #expect(reply.status == 422)
            let fields = reply.json?[path: ["details", "causes"]]?.array?.compactMap { $0["field"]?.string } ?? []
            #expect(fields == ["eventTime", "type", "reportingController", "reportingInstance", "action", "reason", "deprecatedCount"])
            #expect(try await cluster.send(.get, "\(Self.corePath)/bad").status == 404)
            let discovery = try await cluster.send(.get, "/apis/events.k8s.io/v1")
            #expect(discovery.json?["resources"]?.array?.first?["name"] == "events")
        }
    }
}
