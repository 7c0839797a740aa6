import FMADevCluster
import FMAJSON
import FMAKube
import FMAKubeModel
import FMATestSupport
import Foundation
import Testing

/// The client against a real fma-devcluster over HTTPS: what a controller relies on.
@Suite("Kubernetes client against fma-devcluster")
struct DevClusterClientTests {
    private func configMap(_ name: String, _ data: [String: String] = [:]) -> ConfigMap {
        var map = ConfigMap(name: name, namespace: "default")
        map.data = data
        return map
    }

    /// What the informer's handler hears, as "added NAME", "updated NAME", "deleted NAME".
    private func recordEvents<Source: ListerWatcher>(of informer: Informer<Source>) -> Locked<[String]> {
        let events = Locked<[String]>([])
        informer.addHandler { event in
            let name = event.object.metadata.name
            switch event {
            case .added: events.withLock { $0.append("added \(name)") }
            case .updated: events.withLock { $0.append("updated \(name)") }
            case .deleted: events.withLock { $0.append("deleted \(name)") }
            }
        }
        return events
    }

    @Test("an informer lists, then sees adds, updates and deletes in order")
    func listAndWatch() async throws {
        try await withDevCluster { _, client in
            _ = try await client.create(configMap("before"))
            let informer = Informer(client.listerWatcher(ConfigMap.self, namespace: "default"))
            let events = recordEvents(of: informer)
            let run = Task { await informer.run() }
            defer { run.cancel() }
            #expect(await informer.waitForSync())
            _ = try await client.create(configMap("after", ["k": "1"]))
            _ = try await client.update(ConfigMap.self, name: "after") { $0.data["k"] = "2" }
            try await client.delete(ConfigMap.self, name: "before")
            let expected = ["added before", "added after", "updated after", "deleted before"]
            try await waitUntil(timeout: .seconds(20), "the informer saw every change") {
                events.withLock { $0 } == expected
            }
            #expect(informer.cache.get(namespace: "default", name: "after")?.data["k"] == "2")
            #expect(informer.cache.get(namespace: "default", name: "before") == nil)
        }
    }

    @Test("watches the server ends mid-stream resume from the last version: nothing missed, nothing twice")
    func watchResumes() async throws {
        var options = KubeClient.Options()
        options.watchTimeoutSeconds = 1
        try await withDevCluster(clientOptions: options) { _, client in
            let added = Locked<[String: Int]>([:])
            let informer = Informer(client.listerWatcher(ConfigMap.self, namespace: "default"))
            informer.addHandler { event in
                if case .added(let object) = event {
                    added.withLock { $0[object.metadata.name, default: 0] += 1 }
                }
            }
            let run = Task { await informer.run() }
            defer { run.cancel() }
            #expect(await informer.waitForSync())
            // About three seconds of creates: the server ends each watch after 1–2 s.
            let start = ContinuousClock.now
            var created = 0
            while ContinuousClock.now - start < .seconds(3) {
                _ = try await client.create(configMap("cm-\(created)"))
                created += 1
                try await Task.sleep(for: .milliseconds(5))
            }
            let total = created
            try await waitUntil(timeout: .seconds(20), "the informer saw all \(total) objects") {
                added.withLock { $0.count } == total
            }
            let counts = added.withLock { $0 }
            #expect(counts.values.allSatisfy { $0 == 1 }, "an object was delivered twice")
            #expect(Set(counts.keys) == Set((0..<total).map { "cm-\($0)" }))
        }
    }

    @Test("a watch from a version the server no longer has (410) relists and delivers exactly the difference")
    func goneRelists() async throws {
        try await withDevCluster(historyLimit: 20) { cluster, client in
            for name in ["stays", "changes", "goes"] {
                _ = try await client.create(configMap(name, ["v": "1"]))
            }
            let source = InterruptingSource(inner: client.listerWatcher(ConfigMap.self, namespace: "default")) {
                // While the informer is between watches: more changes than the history holds.
                _ = try? cluster.store.patch(.configMap, namespace: "default", name: "changes", .merge(["data": ["v": "2"]]))
                _ = try? cluster.store.delete(.configMap, namespace: "default", name: "goes")
                for i in 0..<30 {
                    _ = try? cluster.store.create(.configMap, namespace: "default", ["metadata": ["name": .string("new-\(i)")]])
                    _ = try? cluster.store.delete(.configMap, namespace: "default", name: "new-\(i)")
                }
                _ = try? cluster.store.create(.configMap, namespace: "default", ["metadata": ["name": "arrives"]])
            }
            let informer = Informer(source)
            let events = recordEvents(of: informer)
            let run = Task { await informer.run() }
            defer { run.cancel() }
            #expect(await informer.waitForSync())
            try await waitUntil(timeout: .seconds(30), "the informer relisted") {
                events.withLock { $0.count } >= 6
            }
            let seen = events.withLock { $0 }
            #expect(Set(seen.prefix(3)) == ["added stays", "added changes", "added goes"])
            #expect(Set(seen.dropFirst(3)) == ["updated changes", "deleted goes", "added arrives"])
            #expect(seen.count == 6)
            #expect(source.gone.withLock { $0 }, "the second watch must have been refused with 410")
        }
    }

    @Test("an informer with a field selector sees a pod arrive when it is bound to its node and leave when deleted; an update cannot move it")
    func fieldSelectedInformer() async throws {
        try await withDevCluster { _, client in
            let events = Locked<[String]>([])
            let informer = Informer(client.listerWatcher(Pod.self, fieldSelector: .equals("spec.nodeName", "node-a")))
            informer.addHandler { event in
                switch event {
                case .added(let pod): events.withLock { $0.append("added \(pod.metadata.name)") }
                case .updated(_, let pod): events.withLock { $0.append("updated \(pod.metadata.name)") }
                case .deleted(let pod): events.withLock { $0.append("deleted \(pod.metadata.name)") }
                }
            }
            let run = Task { await informer.run() }
            defer { run.cancel() }
            #expect(await informer.waitForSync())
            var pod = Pod(name: "p", namespace: "default")
            pod.json["spec"] = ["containers": [["name": "c", "image": "example/image:1"]]]
            _ = try await client.create(pod)
            try await client.bind(pod: "p", node: "node-a")
            _ = try await client.patch(Pod.self, name: "p", .merge(["metadata": ["labels": ["x": "1"]]]))
            do {
                _ = try await client.patch(Pod.self, name: "p", .merge(["spec": ["nodeName": "node-b"]]))
                Issue.record("a pod's node cannot change by an update")
            } catch let error as KubeError {
                #expect(error.statusCode == 422 && error.message.contains("spec.nodeName changed"), "\(error)")
            }
            // The image may change; the container's name may not.
            _ = try await client.patch(Pod.self, name: "p", .strategicMerge(["spec": ["containers": [["name": "c", "image": "example/image:2"]]]]))
            do {
                _ = try await client.patch(Pod.self, name: "p", .json(try JSONPatch(parsing: JSONValue(parsing: #"[{"op":"replace","path":"/spec/containers/0/name","value":"d"}]"#))))
                Issue.record("a container's name cannot change")
            } catch let error as KubeError {
                #expect(error.statusCode == 422 && error.message.contains("spec.containers[0].name changed"), "\(error)")
            }
            _ = try await client.delete(Pod.self, name: "p", options: DeleteOptions(gracePeriodSeconds: 0))
            try await waitUntil(timeout: .seconds(20), "the informer saw the pod come and go") {
                events.withLock { $0 }.last == "deleted p"
            }
            // Binding (node, then PodScheduled), the label and the image: one arrival, updates, one departure.
            let seen = events.withLock { $0 }
            #expect(seen.first == "added p" && seen.filter { $0 == "added p" }.count == 1, "\(seen)")
            #expect(seen.dropFirst().dropLast().allSatisfy { $0 == "updated p" } && seen.count >= 4, "\(seen)")
            #expect(informer.cache.count == 0)
        }
    }

    @Test("conflicting updates: the stale writer gets 409 and nothing is lost; the retrying helper wins")
    func conflicts() async throws {
        try await withDevCluster { _, client in
            let original = try await client.create(configMap("c", ["a": "0"]))
            var first = original
            first.data["a"] = "1"
            _ = try await client.update(first)
            var second = original
            second.data["b"] = "2"
            do {
                _ = try await client.update(second)
                Issue.record("a stale update must fail")
            } catch let error as KubeError {
                #expect(error.isConflict && error.statusCode == 409)
            }
            let merged = try await client.update(ConfigMap.self, name: "c") { $0.data["b"] = "2" }
            #expect(merged.data == ["a": "1", "b": "2"])
        }
    }

    @Test("fields the models do not know survive a typed read-modify-write")
    func unknownFieldsSurvive() async throws {
        // Pod fields the API server knows and fma's typed models do not (as a newer Kubernetes
        // adds fields): a read-modify-write through the models keeps them.
        try await withDevCluster { _, client in
            let spread: JSONValue = [["maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"]]
            let resize: JSONValue = [["resourceName": "cpu", "restartPolicy": "NotRequired"]]
            var pod = Pod(name: "p", namespace: "default")
            pod.json["spec"] = [
                "containers": [["name": "c", "image": "example/image:1", "resizePolicy": resize]],
                "topologySpreadConstraints": spread,
                "os": ["name": "linux"],
            ]
            _ = try await client.create(pod)
            let updated = try await client.update(Pod.self, name: "p") { $0.metadata.labels["touched"] = "yes" }
            let read = try await client.get(Pod.self, name: "p")
            for object in [updated, read] {
                #expect(object.metadata.labels["touched"] == "yes")
                #expect(object[path: ["spec", "topologySpreadConstraints"]] == spread)
                #expect(object[path: ["spec", "os"]] == ["name": "linux"])
                #expect(object.json[path: ["spec", "containers"]]?.array?.first?["resizePolicy"] == resize)
            }
        }
    }

    @Test("merge patch, JSON patch (with a failing test op), strategic merge patch with its list semantics")
    func patchKinds() async throws {
        try await withDevCluster { _, client in
            _ = try await client.create(configMap("p", ["a": "1", "b": "2"]))
            let merged = try await client.patch(ConfigMap.self, name: "p", .merge(["data": ["a": "x", "b": nil]]))
            #expect(merged.data == ["a": "x"])
            let ops = try JSONPatch(parsing: JSONValue(parsing: #"[{"op":"add","path":"/data/c","value":"3"}]"#))
            #expect(try await client.patch(ConfigMap.self, name: "p", .json(ops)).data == ["a": "x", "c": "3"])
            let failing = try JSONPatch(parsing: JSONValue(parsing: #"[{"op":"add","path":"/data/d","value":"4"},{"op":"test","path":"/data/a","value":"no"}]"#))
            do {
                _ = try await client.patch(ConfigMap.self, name: "p", .json(failing))
                Issue.record("a failing test op must fail the patch")
            } catch let error as KubeError {
                #expect(error.statusCode == 422)
            }
            // A strategic patch: maps as a merge patch, finalizers merged as a set.
            #expect(try await client.patch(ConfigMap.self, name: "p", .strategicMerge(["data": ["a": "y"]])).data == ["a": "y", "c": "3"])
            _ = try await client.patch(ConfigMap.self, name: "p", .strategicMerge(["metadata": ["finalizers": ["example.com/x"]]]))
            let both = try await client.patch(ConfigMap.self, name: "p", .strategicMerge(["metadata": ["finalizers": ["example.com/y"]]]))
            #expect(both.metadata.finalizers == ["example.com/x", "example.com/y"])
            #expect(both.data == ["a": "y", "c": "3"])
            _ = try await client.patch(ConfigMap.self, name: "p", .merge(["metadata": ["finalizers": nil]]))
            #expect(try await client.get(ConfigMap.self, name: "p").metadata.finalizers.isEmpty)
        }
    }

    @Test("a finalizer holds the object (deletionTimestamp set) until it is removed; preconditions guard deletes")
    func finalizersDelayDeletion() async throws {
        try await withDevCluster { _, client in
            var map = configMap("f")
            map.metadata.finalizers = ["fma.llm-d.ai/test"]
            let created = try await client.create(map)
            do {
                try await client.delete(ConfigMap.self, name: "f", options: DeleteOptions(preconditionUID: "not-the-uid"))
                Issue.record("a wrong uid precondition must fail")
            } catch let error as KubeError {
                #expect(error.statusCode == 409)
            }
            let pending = try await client.delete(ConfigMap.self, name: "f", options: DeleteOptions(preconditionUID: created.metadata.uid))
            #expect(pending?.metadata.deletionTimestamp != nil)
            #expect(try await client.get(ConfigMap.self, name: "f").metadata.deletionTimestamp != nil)
            _ = try await client.update(ConfigMap.self, name: "f") { $0.metadata.finalizers = [] }
            do {
                _ = try await client.get(ConfigMap.self, name: "f")
                Issue.record("the object must be gone once its last finalizer is")
            } catch let error as KubeError {
                #expect(error.isNotFound)
            }
            // Without a finalizer the object goes at once: delete says so with nil.
            _ = try await client.create(configMap("quick"))
            #expect(try await client.delete(ConfigMap.self, name: "quick") == nil)
        }
    }

    @Test("events recorded about an object can be listed by the object's name")
    func events() async throws {
        try await withDevCluster { _, client in
            let map = try await client.create(configMap("subject"))
            let recorder = EventRecorder(client: client, component: "fma-test")
            let event = await recorder.record(map, type: .warning, reason: "Testing", message: "an event about subject")
            #expect(event != nil)
            let found = try await client.list(Event.self, namespace: "default", fieldSelector: .equals("involvedObject.name", "subject"))
            #expect(found.items.count == 1)
            #expect(found.items.first?.reason == "Testing")
            #expect(found.items.first?.json[path: ["involvedObject", "uid"]]?.string == map.metadata.uid)
            // The same event again bumps the count of the one Event; a different one is new.
            let again = await recorder.record(map, type: .warning, reason: "Testing", message: "an event about subject")
            #expect(again?.count == 2 && again?.metadata.name == event?.metadata.name)
            _ = await recorder.record(map, reason: "Other", message: "something else")
            let all = try await client.list(Event.self, namespace: "default", fieldSelector: .equals("involvedObject.name", "subject"))
            #expect(all.items.count == 2)
            #expect(all.items.first { $0.reason == "Testing" }?.count == 2)
        }
    }

    @Test("an event queue records posted events in order, in the background, with the time they were posted")
    func eventQueue() async throws {
        try await withDevCluster { _, client in
            let map = try await client.create(configMap("queued"))
            let queue = EventQueue(recorder: EventRecorder(client: client, component: "fma-test"))
            let posted = Date()
            queue.post(map, reason: "First", message: "one")
            queue.post(map, type: .warning, reason: "Second", message: "two")
            queue.post(map, reason: "First", message: "one")
            // Nothing is recorded before the queue runs.
            let before = try await client.list(Event.self, namespace: "default", fieldSelector: .equals("involvedObject.name", "queued"))
            #expect(before.items.isEmpty)
            let runner = Task { await queue.run() }
            defer { runner.cancel() }
            let deadline = ContinuousClock.now + .seconds(30)
            var events: [Event] = []
            while ContinuousClock.now < deadline {
                events = try await client.list(Event.self, namespace: "default", fieldSelector: .equals("involvedObject.name", "queued")).items
                if events.count == 2, events.first(where: { $0.reason == "First" })?.count == 2 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let first = try #require(events.first { $0.reason == "First" })
            let second = try #require(events.first { $0.reason == "Second" })
            #expect(first.count == 2 && second.type == "Warning")
            // Named by the time each was posted: the first one posted sorts first.
            #expect(first.metadata.name < second.metadata.name)
            let stamp = try #require(first.json["firstTimestamp"]?.string.flatMap(KubeTime.date))
            #expect(abs(stamp.timeIntervalSince(posted)) < 2)
            #expect(queue.droppedCount == 0)

            // A full queue drops its oldest waiting events and counts them.
            let small = EventQueue(recorder: EventRecorder(client: client, component: "fma-test"), capacity: 1)
            for i in 0..<3 { small.post(map, reason: "Many", message: "number \(i)") }
            #expect(small.droppedCount == 2)
        }
    }

    @Test("API errors are typed: NotFound, AlreadyExists, Invalid with the CRD's rule")
    func typedErrors() async throws {
        try await withDevCluster { _, client in
            do {
                _ = try await client.get(ConfigMap.self, name: "missing")
                Issue.record("expected NotFound")
            } catch let error as KubeError {
                #expect(error.isNotFound && error.message.contains("missing"))
            }
            _ = try await client.create(configMap("dup"))
            do {
                _ = try await client.create(configMap("dup"))
                Issue.record("expected AlreadyExists")
            } catch let error as KubeError {
                #expect(error.isAlreadyExists)
            }
            var policy = LauncherPopulationPolicy(name: "twice", namespace: "default")
            policy.json["spec"] = [
                "enhancedNodeSelector": ["labelSelector": ["matchLabels": ["a": "b"]]],
                "countForLauncher": [["launcherConfigName": "lc", "launcherCount": 1], ["launcherConfigName": "lc", "launcherCount": 2]],
            ]
            do {
                _ = try await client.create(policy)
                Issue.record("a policy naming one LauncherConfig twice must be refused")
            } catch let error as KubeError {
                #expect(error.isInvalid && error.message.contains("lc"))
            }
        }
    }

    @Test("binding assigns an unassigned pod to a node once: PodScheduled set; a bound or deleting pod is a conflict")
    func binding() async throws {
        try await withDevCluster { _, client in
            var pod = Pod(name: "unbound", namespace: "default")
            pod.json["spec"] = ["containers": [["name": "c", "image": "busybox"]]]
            _ = try await client.create(pod)
            try await client.bind(pod: "unbound", node: "node-a")
            let bound = try await client.get(Pod.self, name: "unbound")
            #expect(bound.spec.nodeName == "node-a")
            #expect(bound.status.condition("PodScheduled")?.isTrue == true)
            do {
                try await client.bind(pod: "unbound", node: "node-b")
                Issue.record("binding a bound pod must be refused")
            } catch let error as KubeError {
                #expect(error.isConflict && error.message.contains("node-a"), "\(error)")
            }
            #expect(try await client.get(Pod.self, name: "unbound").spec.nodeName == "node-a")
            do {
                try await client.bind(pod: "missing", node: "node-a")
                Issue.record("binding a missing pod must be NotFound")
            } catch let error as KubeError {
                #expect(error.isNotFound)
            }
            var held = Pod(name: "held", namespace: "default")
            held.metadata.finalizers = ["example.com/hold"]
            held.json["spec"] = ["containers": [["name": "c", "image": "busybox"]]]
            _ = try await client.create(held)
            _ = try await client.delete(Pod.self, name: "held")
            do {
                try await client.bind(pod: "held", node: "node-a")
                Issue.record("binding a pod being deleted must be refused")
            } catch let error as KubeError {
                #expect(error.isConflict && error.message.contains("being deleted"), "\(error)")
            }
            _ = try await client.update(Pod.self, name: "held") { $0.metadata.finalizers = [] }
        }
    }
}

/// Wraps a lister-watcher: after the first watch ends, runs `between` once, and records
/// whether the next watch was refused with 410.
final class InterruptingSource<Inner: ListerWatcher>: ListerWatcher, Sendable {
    typealias Object = Inner.Object
    let inner: Inner
    let between: @Sendable () -> Void
    let watches = Locked(0)
    let gone = Locked(false)

    init(inner: Inner, between: @escaping @Sendable () -> Void) {
        self.inner = inner
        self.between = between
    }

    func list(limit: Int?, continue token: String?) async throws(KubeError) -> ObjectList<Object> {
        try await inner.list(limit: limit, continue: token)
    }

    func watch(resourceVersion: String) async throws(KubeError) -> FirstWatchEndsEarly<Inner.Events> {
        let count = watches.withLock { $0 += 1; return $0 }
        if count == 2 { between() }
        do {
            let events = try await inner.watch(resourceVersion: resourceVersion)
            return FirstWatchEndsEarly(base: events, endImmediately: count == 1) { [gone] in gone.withLock { $0 = true } }
        } catch {
            if error.isGone { gone.withLock { $0 = true } }
            throw error
        }
    }
}

/// The first watch ends at once (as if the server dropped it); later ones pass through,
/// reporting a 410 the stream carries (a too-old watch answers 200, then an ERROR event).
struct FirstWatchEndsEarly<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable {
    typealias Element = Base.Element
    let base: Base
    let endImmediately: Bool
    let onGone: @Sendable () -> Void

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let endImmediately: Bool
        let onGone: @Sendable () -> Void

        mutating func next() async throws -> Element? {
            if endImmediately { return nil }
            do {
                return try await base.next()
            } catch let error as KubeError {
                if error.isGone { onGone() }
                throw error
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), endImmediately: endImmediately, onGone: onGone)
    }
}
