import FMADevCluster
import FMAJSON
import FMAKubeModel
import Foundation
import FMATestSupport
import Testing

@Suite("Object store")
struct ObjectStoreTests {
    private func configMap(_ name: String, _ data: JSONObject = [:], labels: [String: String] = [:]) -> JSONObject {
        var object: JSONObject = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": .object(data)]
        if !labels.isEmpty { object[path: ["metadata", "labels"]] = JSONValue(stringMap: labels) }
        return object
    }

    @Test("create assigns uid, resource version, generation; names clash; generateName picks a free name")
    func create() throws {
        let store = ObjectStore()
        let created = try store.create(.configMap, namespace: "default", configMap("a"))
        let meta = ObjectMeta(json: created["metadata"]!.object!)
        #expect(!meta.uid.isEmpty && meta.namespace == "default" && meta.generation == 1)
        #expect(Int64(meta.resourceVersion) == store.resourceVersion)
        #expect(throws: KubeStatus.self) { try store.create(.configMap, namespace: "default", configMap("a")) }
        var generated: JSONObject = ["metadata": ["generateName": "gen-"]]
        generated["data"] = [:]
        let g = try store.create(.configMap, namespace: "default", generated)
        #expect(g[path: ["metadata", "name"]]?.string?.hasPrefix("gen-") == true)
        #expect(g[path: ["metadata", "name"]]?.string?.count == 9)
        do {
            _ = try store.create(.configMap, namespace: "nowhere", configMap("b"))
            Issue.record("a missing namespace must fail")
        } catch {
            #expect(error.code == 404 && error.message.contains("nowhere"))
        }
        do {
            _ = try store.create(.configMap, namespace: "default", ["kind": "Pod", "metadata": ["name": "x"]])
            Issue.record("a wrong kind must fail")
        } catch {
            #expect(error.code == 400)
        }
    }

    @Test("update needs the current resource version; unknown fields survive; no-op updates keep the version")
    func optimisticConcurrency() throws {
        let store = ObjectStore()
        var object = configMap("a", ["k": "v"])
        object["someoneElses"] = ["x": 1]
        let created = try store.create(.configMap, namespace: "default", object)
        var first = created
        first[path: ["data", "k"]] = "v2"
        let updated = try store.update(.configMap, namespace: "default", name: "a", first)
        #expect(updated["someoneElses"] == ["x": 1])
        var stale = created
        stale[path: ["data", "k"]] = "v3"
        do {
            _ = try store.update(.configMap, namespace: "default", name: "a", stale)
            Issue.record("a stale update must fail")
        } catch {
            #expect(error.code == 409 && error.reason == .conflict)
        }
        #expect(try store.get(.configMap, namespace: "default", name: "a")[path: ["data", "k"]] == "v2")
        let version = store.resourceVersion
        _ = try store.update(.configMap, namespace: "default", name: "a", updated)
        #expect(store.resourceVersion == version)
    }

    @Test("status subresource: the main resource cannot change status, the subresource only status")
    func statusSubresource() throws {
        let store = ObjectStore()
        let isc: JSONObject = [
            "apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "InferenceServerConfig", "metadata": ["name": "s"],
            "spec": ["launcherConfigName": "l", "modelServerConfig": ["port": 8000]], "status": ["errors": ["ignored"]],
        ]
        let created = try store.create(.inferenceServerConfig, namespace: "default", isc)
        #expect(created["status"] == nil)
        var withStatus = created
        withStatus["status"] = ["observedGeneration": 1]
        withStatus[path: ["spec", "launcherConfigName"]] = "changed-too"
        let afterStatus = try store.update(.inferenceServerConfig, namespace: "default", name: "s", withStatus, subresource: "status")
        #expect(afterStatus[path: ["status", "observedGeneration"]] == 1)
        #expect(afterStatus[path: ["spec", "launcherConfigName"]] == "l")
        var specChange = afterStatus
        specChange[path: ["spec", "launcherConfigName"]] = "m"
        specChange["status"] = nil
        let afterSpec = try store.update(.inferenceServerConfig, namespace: "default", name: "s", specChange)
        #expect(afterSpec[path: ["status", "observedGeneration"]] == 1)
        #expect(afterSpec[path: ["metadata", "generation"]] == 2)
    }

    @Test("merge and JSON patches; a failing JSON patch changes nothing")
    func patches() throws {
        let store = ObjectStore()
        _ = try store.create(.configMap, namespace: "default", configMap("a", ["k": "v", "drop": "me"]))
        let merged = try store.patch(.configMap, namespace: "default", name: "a", .merge(["data": ["k": "w", "drop": nil], "metadata": ["labels": ["l": "1"]]]))
        #expect(merged["data"] == ["k": "w"])
        #expect(merged[path: ["metadata", "labels", "l"]] == "1")
        let patch = try JSONPatch(parsing: JSONValue(parsing: #"[{"op":"add","path":"/data/n","value":"x"},{"op":"test","path":"/data/k","value":"nope"}]"#))
        #expect(throws: KubeStatus.self) { try store.patch(.configMap, namespace: "default", name: "a", .json(patch)) }
        #expect(try store.get(.configMap, namespace: "default", name: "a")["data"] == ["k": "w"])
        let stale = JSONValue.object(["metadata": ["resourceVersion": "1"], "data": ["k": "z"]])
        #expect(throws: KubeStatus.self) { try store.patch(.configMap, namespace: "default", name: "a", .merge(stale)) }
    }

    @Test("finalizers hold a delete until they are removed; preconditions are checked")
    func finalizers() throws {
        let store = ObjectStore()
        var object = configMap("a")
        object[path: ["metadata", "finalizers"]] = ["example.com/hold"]
        let created = try store.create(.configMap, namespace: "default", object)
        #expect(throws: KubeStatus.self) {
            try store.delete(.configMap, namespace: "default", name: "a", options: DeleteOptions(preconditionUID: "wrong"))
        }
        guard case .pending(let pending) = try store.delete(.configMap, namespace: "default", name: "a") else {
            Issue.record("expected a pending delete")
            return
        }
        #expect(pending[path: ["metadata", "deletionTimestamp"]] != nil)
        var adding = pending
        adding[path: ["metadata", "finalizers"]] = ["example.com/hold", "example.com/new"]
        #expect(throws: KubeStatus.self) { try store.update(.configMap, namespace: "default", name: "a", adding) }
        var release = pending
        release[path: ["metadata", "finalizers"]] = nil
        _ = try store.update(.configMap, namespace: "default", name: "a", release)
        #expect(throws: KubeStatus.self) { try store.get(.configMap, namespace: "default", name: "a") }
        _ = created
    }

    @Test("a scheduled pod waits for its grace period to be cut to zero")
    func podGrace() throws {
        let store = ObjectStore()
        let pod: JSONObject = ["metadata": ["name": "p"], "spec": ["nodeName": "node-1", "containers": [["name": "c", "image": "i"]]]]
        _ = try store.create(.pod, namespace: "default", pod)
        guard case .pending(let pending) = try store.delete(.pod, namespace: "default", name: "p") else {
            Issue.record("expected a pending delete")
            return
        }
        #expect(pending[path: ["metadata", "deletionGracePeriodSeconds"]] == 30)
        // Deleting it again with no shorter grace period changes nothing (no new version, no event).
        let version = store.resourceVersion
        _ = try store.delete(.pod, namespace: "default", name: "p")
        #expect(store.resourceVersion == version)
        guard case .deleted = try store.delete(.pod, namespace: "default", name: "p", options: DeleteOptions(gracePeriodSeconds: 0)) else {
            Issue.record("grace 0 must delete")
            return
        }
        let unscheduled: JSONObject = ["metadata": ["name": "q"], "spec": ["containers": [["name": "c", "image": "i"]]]]
        _ = try store.create(.pod, namespace: "default", unscheduled)
        guard case .deleted = try store.delete(.pod, namespace: "default", name: "q") else {
            Issue.record("an unscheduled pod goes at once")
            return
        }
    }

    @Test("deleting an owner deletes its dependents, or orphans them")
    func garbageCollection() throws {
        let store = ObjectStore()
        let owner = try store.create(.configMap, namespace: "default", configMap("owner"))
        let uid = owner[path: ["metadata", "uid"]]!.string!
        for name in ["d1", "d2"] {
            var dependent = configMap(name)
            dependent[path: ["metadata", "ownerReferences"]] = [OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: uid).json].map { .object($0) }.asArray
            _ = try store.create(.configMap, namespace: "default", dependent)
        }
        _ = try store.delete(.configMap, namespace: "default", name: "owner")
        #expect(try store.list(.configMap, namespace: "default").items.isEmpty)

        // A dependent made after its owner went (a controller acting on a stale cache) goes at
        // once; one whose owner exists, or is of a kind the store does not serve, stays.
        var late = configMap("late")
        late[path: ["metadata", "ownerReferences"]] = [OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: uid).json].map { .object($0) }.asArray
        _ = try store.create(.configMap, namespace: "default", late)
        #expect(try store.list(.configMap, namespace: "default").items.isEmpty)
        let alive = try store.create(.configMap, namespace: "default", configMap("alive"))
        let aliveUID = alive[path: ["metadata", "uid"]]!.string!
        for (name, reference) in [("kept", OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "alive", uid: aliveUID)),
                                  ("foreign", OwnerReference(apiVersion: "example.com/v1", kind: "Widget", name: "w", uid: "u"))] {
            var dependent = configMap(name)
            dependent[path: ["metadata", "ownerReferences"]] = [reference.json].map { .object($0) }.asArray
            _ = try store.create(.configMap, namespace: "default", dependent)
        }
        #expect(Set(try store.list(.configMap, namespace: "default").items.compactMap { $0[path: ["metadata", "name"]]?.string }) == ["alive", "kept", "foreign"])
    }

    @Test("list filters by label and field selectors and pages with continue")
    func listPaging() throws {
        let store = ObjectStore()
        for i in 0..<7 {
            _ = try store.create(.configMap, namespace: "default", configMap("cm-\(i)", labels: ["parity": i % 2 == 0 ? "even" : "odd"]))
        }
        let even = try store.list(.configMap, namespace: "default", labels: LabelSelector(parsing: "parity=even"))
        #expect(even.items.count == 4)
        let byName = try store.list(.configMap, namespace: nil, fields: .equals("metadata.name", "cm-3"))
        #expect(byName.items.count == 1)
        var names: [String] = []
        var token: String?
        repeat {
            let page = try store.list(.configMap, namespace: "default", limit: 3, continueToken: token)
            names += page.items.compactMap { $0[path: ["metadata", "name"]]?.string }
            token = page.continueToken
        } while token != nil
        #expect(names == (0..<7).map { "cm-\($0)" })
        #expect(throws: KubeStatus.self) { try store.list(.configMap, namespace: "default", continueToken: "zz") }
    }

    @Test("every page of a list shows the first page's snapshot, so a watch from the list's version misses nothing")
    func listPagesAreOneSnapshot() async throws {
        let store = ObjectStore()
        for i in 0..<4 {
            _ = try store.create(.configMap, namespace: "default", configMap("cm-\(i)"))
        }
        let first = try store.list(.configMap, namespace: "default", limit: 2)
        #expect(first.items.compactMap { $0[path: ["metadata", "name"]]?.string } == ["cm-0", "cm-1"])
        // While the client pages: a listed object changes, an unlisted one changes, one goes, one comes.
        _ = try store.patch(.configMap, namespace: "default", name: "cm-0", .merge(["data": ["k": "0"]]))
        _ = try store.patch(.configMap, namespace: "default", name: "cm-3", .merge(["data": ["k": "3"]]))
        _ = try store.delete(.configMap, namespace: "default", name: "cm-2")
        _ = try store.create(.configMap, namespace: "default", configMap("cm-9"))
        let second = try store.list(.configMap, namespace: "default", limit: 2, continueToken: first.continueToken)
        #expect(second.resourceVersion == first.resourceVersion)
        #expect(second.continueToken == nil)
        #expect(second.items.compactMap { $0[path: ["metadata", "name"]]?.string } == ["cm-2", "cm-3"])
        #expect(second.items.last?[path: ["data", "k"]] == nil)
        // An informer watches from the list's version and hears of all four changes.
        let watch = try store.watch(.configMap, namespace: "default", from: second.resourceVersion)
        var seen: [String] = []
        for await event in watch {
            seen.append("\(event.type.rawValue) \(event.object[path: ["metadata", "name"]]?.string ?? "")")
            if seen.count == 4 { break }
        }
        #expect(seen == ["MODIFIED cm-0", "MODIFIED cm-3", "DELETED cm-2", "ADDED cm-9"])

        // A snapshot the history no longer covers is 410 Expired, as for an old etcd revision.
        let small = ObjectStore(historyLimit: 2)
        for i in 0..<3 {
            _ = try small.create(.configMap, namespace: "default", configMap("s-\(i)"))
        }
        let page = try small.list(.configMap, namespace: "default", limit: 1)
        for i in 0..<3 {
            _ = try small.patch(.configMap, namespace: "default", name: "s-\(i)", .merge(["data": ["k": "v"]]))
        }
        do {
            _ = try small.list(.configMap, namespace: "default", limit: 1, continueToken: page.continueToken)
            Issue.record("a continue token older than the history must fail")
        } catch {
            #expect(error.code == 410 && error.reason == .expired)
        }
    }

    @Test("the watch history is bounded by bytes as well as by count: large changes push the oldest out (410), the newest stays")
    func historyBoundedByBytes() throws {
        let store = ObjectStore(historyLimit: 50_000, historyByteLimit: 64 << 10)
        let start = String(store.resourceVersion)
        let large = String(repeating: "x", count: 10_000)
        for i in 0..<20 {
            _ = try store.create(.configMap, namespace: "default", ["metadata": ["name": .string("big-\(i)")], "data": ["k": .string(large)]])
        }
        // 20 changes of about 10 KB do not fit in 64 KiB: the first ones left the history.
        #expect(throws: KubeStatus.self) { _ = try store.watch(.configMap, namespace: nil, from: start) }
        let recent = String(store.resourceVersion - 5)
        let watch = try store.watch(.configMap, namespace: nil, from: recent)
        watch.cancel()
        // One change larger than the whole bound still stays, as the newest.
        let huge = String(repeating: "y", count: 100_000)
        _ = try store.create(.configMap, namespace: "default", ["metadata": ["name": "huge"], "data": ["k": .string(huge)]])
        let justBefore = String(store.resourceVersion - 1)
        let last = try store.watch(.configMap, namespace: nil, from: justBefore)
        last.cancel()
        #expect(throws: KubeStatus.self) { _ = try store.watch(.configMap, namespace: nil, from: String(store.resourceVersion - 2)) }
    }

    @Test("watch from a resource version replays history; filters turn moves into ADDED/DELETED; too old is 410")
    func watches() async throws {
        let store = ObjectStore(historyLimit: 5)
        let start = String(store.resourceVersion)
        _ = try store.create(.configMap, namespace: "default", configMap("a", labels: ["w": "yes"]))
        let watch = try store.watch(.configMap, namespace: "default", labels: LabelSelector(parsing: "w=yes"), from: start)
        _ = try store.patch(.configMap, namespace: "default", name: "a", .merge(["metadata": ["labels": ["w": "no"]]]))
        _ = try store.patch(.configMap, namespace: "default", name: "a", .merge(["metadata": ["labels": ["w": "yes"]]]))
        _ = try store.create(.configMap, namespace: "default", configMap("ignored"))
        _ = try store.delete(.configMap, namespace: "default", name: "a")
        store.emitBookmarks()
        var types: [WatchEventType] = []
        for await event in watch {
            types.append(event.type)
            if types.count == 5 { break }
        }
        #expect(types == [.added, .deleted, .added, .deleted, .bookmark])
        for i in 0..<10 {
            _ = try store.create(.configMap, namespace: "default", configMap("x\(i)"))
        }
        do {
            _ = try store.watch(.configMap, namespace: nil, from: start)
            Issue.record("a watch from too old a version must fail")
        } catch {
            #expect(error.code == 410)
        }
    }

    @Test("a consumer that falls too far behind has its watch ended, and nothing else breaks")
    func slowWatcher() async throws {
        let store = ObjectStore(watchBufferLimit: 3)
        let watch = try store.watch(.configMap, namespace: nil, from: String(store.resourceVersion))
        for i in 0..<10 {
            _ = try store.create(.configMap, namespace: "default", configMap("c\(i)"))
        }
        var count = 0
        for await _ in watch { count += 1 }
        #expect(count == 3)
        #expect(store.watchCount == 0)
        #expect(try store.list(.configMap, namespace: "default").items.count == 10)
    }
}

extension Array where Element == JSONValue {
    fileprivate var asArray: JSONValue { .array(self) }
}

@Suite("Event expiry")
struct EventExpiryTests {
    @Test("events last seen before the TTL go; newer ones and other kinds stay")
    func expiry() throws {
        let store = ObjectStore()
        func event(_ name: String, last: String) -> JSONObject {
            ["metadata": ["name": .string(name)], "involvedObject": ["kind": "Pod", "name": "p"], "reason": "R", "lastTimestamp": .string(last)]
        }
        _ = try store.create(.event, namespace: "default", event("old", last: "2026-01-01T00:00:00Z"))
        _ = try store.create(.event, namespace: "default", event("new", last: "2026-01-01T00:59:00Z"))
        _ = try store.create(.configMap, namespace: "default", ["metadata": ["name": "kept"]])
        let expiry = EventExpiry(store: store, ttl: .seconds(3600))
        let now = try #require(try? Date("2026-01-01T01:30:00Z", strategy: .iso8601))
        #expect(expiry.expire(now: now) == 1)
        let names = try store.list(.event, namespace: "default").items.compactMap { $0[path: ["metadata", "name"]]?.string }
        #expect(names == ["new"])
        #expect((try? store.get(.configMap, namespace: "default", name: "kept")) != nil)
    }

    @Test("beyond maxEvents the oldest go, whatever their age")
    func countBound() throws {
        let store = ObjectStore()
        for minute in 0..<30 {
            let last = String(format: "2026-01-01T00:%02d:00Z", minute)
            // Names out of time order: the bound must go by time, not by name.
            let event: JSONObject = ["metadata": ["name": .string("e\(29 - minute)")], "involvedObject": ["kind": "Pod", "name": "p"],
                                     "reason": "R", "lastTimestamp": .string(last)]
            _ = try store.create(.event, namespace: "default", event)
        }
        let expiry = EventExpiry(store: store, ttl: .seconds(3600), maxEvents: 10)
        let now = try #require(try? Date("2026-01-01T00:30:00Z", strategy: .iso8601))
        #expect(expiry.expire(now: now) == 20)
        let names = Set(try store.list(.event, namespace: "default").items.compactMap { $0[path: ["metadata", "name"]]?.string })
        #expect(names == Set((0..<10).map { "e\($0)" }), "the ten newest stay")
        #expect(expiry.expire(now: now) == 0)
    }

    @Test("running, a burst past maxEvents is trimmed at the next count check, long before the age sweep")
    func burstTrimmedSoon() async throws {
        let store = ObjectStore()
        let expiry = EventExpiry(store: store, ttl: .seconds(3600), maxEvents: 10, interval: .seconds(3600), countInterval: .milliseconds(20))
        let running = Task { try await expiry.run() }
        defer { running.cancel() }
        for index in 0..<40 {
            let event: JSONObject = ["metadata": ["name": .string("b\(index)")], "involvedObject": ["kind": "Pod", "name": "p"], "reason": "R"]
            _ = try store.create(.event, namespace: "default", event)
        }
        try await waitUntil("the burst trimmed to 10 Events") { store.count(.event) <= 10 }
        #expect(store.count(.event) == 10)
    }
}
