import FMAJSON
import FMAKube
import FMAKubeModel
import FMATestSupport
import Testing

@Suite("client over HTTP (fake API server)")
struct KubeClientTests {
    private func withClient(_ server: FakeAPIServer, _ body: @Sendable @escaping (KubeClient) async throws -> Void) async throws {
        try await server.run { url in
            let client = KubeClient(config: KubeConfig(server: url + "/", token: .value("secret"), namespace: "d"))
            do {
                try await body(client)
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
    }

    @Test func crudAndErrors() async throws {
        let server = FakeAPIServer()
        try await withClient(server) { client in
            var cm = ConfigMap(name: "", namespace: "")
            cm.metadata.generateName = "gpu-map-"
            cm.data = ["node-a": "{}"]
            cm.json["futureField"] = ["kept": true]
            let created = try await client.create(cm)
            #expect(created.metadata.name == "gpu-map-x1")
            #expect(created.metadata.namespace == "d")
            #expect(created.json["futureField"]?["kept"] == true)

            let read = try await client.get(ConfigMap.self, name: "gpu-map-x1")
            #expect(read == created)

            do {
                _ = try await client.get(ConfigMap.self, name: "missing")
                Issue.record("expected 404")
            } catch {
                let error = error as? KubeError
                #expect(error?.isNotFound == true)
                #expect(error?.status?.message == "configmaps \"missing\" not found")
            }

            // A stale update is a conflict the caller sees; a fresh one succeeds.
            var stale = read
            stale.data["node-b"] = "{}"
            let fresh = try await client.update(stale)
            #expect(fresh.data.keys.sorted() == ["node-a", "node-b"])
            do {
                _ = try await client.update(stale)
                Issue.record("expected 409")
            } catch {
                #expect((error as? KubeError)?.isConflict == true)
            }

            // The retrying helper reads again after each conflict and keeps the other writer's change.
            server.state.withLock { $0.conflictsLeft = 2 }
            let retried = try await client.update(ConfigMap.self, name: "gpu-map-x1") { cm in
                cm.data["node-c"] = "{}"
            }
            #expect(retried.data["node-c"] == "{}")
            #expect(retried.metadata.annotations["other-writer"] != nil)
            #expect(server.requests.filter { $0.method == "PUT" }.count == 5)

            let merged = try await client.patch(ConfigMap.self, name: "gpu-map-x1", .merge(["data": ["node-a": nil]]))
            #expect(merged.data["node-a"] == nil)
            let patched = try await client.patch(ConfigMap.self, name: "gpu-map-x1",
                                                 .json(JSONPatch([.add(path: try JSONPointer(parsing: "/data/z~1z"), value: "1")])))
            #expect(patched.data["z/z"] == "1")
            let kinds = server.requests.filter { $0.method == "PATCH" }.map(\.contentType)
            #expect(kinds == ["application/merge-patch+json", "application/json-patch+json"])

            let gone = try await client.delete(ConfigMap.self, name: "gpu-map-x1",
                                               options: DeleteOptions(preconditionUID: "uid-gpu-map-x1", propagationPolicy: .background))
            #expect(gone == nil)
            let deleteBody = server.requests.last?.body
            #expect(deleteBody?["preconditions"]?["uid"] == "uid-gpu-map-x1")
            #expect(deleteBody?["propagationPolicy"] == "Background")

            // Every request carried the token and asked for the configuration's namespace.
            #expect(server.requests.allSatisfy { $0.authorization == "Bearer secret" })
            #expect(server.requests.allSatisfy { $0.path.hasPrefix("/api/v1/namespaces/d/configmaps") })
        }
    }

    @Test func retriesWhenTheServerSaysRetryAfter() async throws {
        let server = FakeAPIServer()
        server.state.withLock {
            $0.objects["a"] = ["kind": "ConfigMap", "apiVersion": "v1", "metadata": ["name": "a", "namespace": "d"]]
            $0.throttleLeft = 2
        }
        try await withClient(server) { client in
            let a = try await client.get(ConfigMap.self, name: "a")
            #expect(a.metadata.name == "a")
            #expect(server.requests.count == 3)
            // Past the attempts allowed, the 429 is the caller's.
            server.state.withLock { $0.throttleLeft = 10 }
            do {
                _ = try await client.get(ConfigMap.self, name: "a")
                Issue.record("expected 429")
            } catch {
                #expect((error as? KubeError)?.isTooManyRequests == true)
            }
        }
    }

    @Test func listPagesAndSelectors() async throws {
        let server = FakeAPIServer()
        try await withClient(server) { client in
            for i in 0..<5 {
                _ = try await client.create(ConfigMap(name: "cm-\(i)", namespace: "d"))
            }
            let page = try await client.list(ConfigMap.self, namespace: "d", labelSelector: try LabelSelector(parsing: "app in (a,b)"),
                                             fieldSelector: .equals("metadata.name", "cm-1"), limit: 2)
            #expect(page.items.map(\.metadata.name) == ["cm-0", "cm-1"])
            #expect(page.continueToken == "2")
            #expect(page.items.first?.kind == "ConfigMap") // list items get their kind back
            let query = try #require(server.requests.last?.query)
            #expect(query["labelSelector"] == "app in (a,b)")
            #expect(query["fieldSelector"] == "metadata.name=cm-1")
            #expect(query["limit"] == "2")

            let all = try await client.listAll(ConfigMap.self, namespace: "d", pageSize: 2)
            #expect(all.items.map(\.metadata.name) == (0..<5).map { "cm-\($0)" })
            #expect(all.resourceVersion == "105")
            #expect(server.requests.suffix(3).map { $0.query["continue"] } == [nil, "2", "4"])
        }
    }

    @Test func watchStreamsEventsAndTypes410() async throws {
        let server = FakeAPIServer()
        server.state.withLock {
            $0.watchBody =
                #"{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","namespace":"d","resourceVersion":"101"}}}"# + "\n" +
                #"{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"150"}}}"# + "\n" +
                #"{"type":"MODIFIED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","namespace":"d","resourceVersion":"151"},"data":{"k":"v"}}}"# + "\n"
        }
        try await withClient(server) { client in
            let stream = try await client.watch(ConfigMap.self, namespace: "d", resourceVersion: "100", timeoutSeconds: 30)
            var events: [WatchEvent<ConfigMap>] = []
            for try await event in stream { events.append(event) }
            #expect(events.map(\.type) == [.added, .bookmark, .modified])
            #expect(events.last?.object.data == ["k": "v"])
            let query = try #require(server.requests.last?.query)
            #expect(query["watch"] == "true")
            #expect(query["resourceVersion"] == "100")
            #expect(query["allowWatchBookmarks"] == "true")
            #expect(query["timeoutSeconds"] == "30")

            let tooOld = try await client.watch(ConfigMap.self, namespace: "d", resourceVersion: "1")
            do {
                for try await _ in tooOld {}
                Issue.record("expected 410")
            } catch {
                #expect((error as? KubeError)?.isGone == true)
            }
        }
    }

    @Test func informerOverHTTP() async throws {
        let server = FakeAPIServer()
        server.state.withLock {
            $0.objects["a"] = ["kind": "ConfigMap", "apiVersion": "v1", "metadata": ["name": "a", "namespace": "d", "resourceVersion": "100"]]
            $0.watchBody = #"{"type":"MODIFIED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","namespace":"d","resourceVersion":"101"},"data":{"x":"1"}}}"# + "\n"
        }
        try await withClient(server) { client in
            let informer = Informer(client.listerWatcher(ConfigMap.self, namespace: "d"))
            let seen = Locked<[String]>([])
            informer.addHandler { event in seen.withLock { $0.append("\(event.key)@\(event.object.metadata.resourceVersion)") } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await informer.run() }
                #expect(await informer.waitForSync())
                try await waitUntil("the watched change") { informer.cache.get("d/a")?.data["x"] == "1" }
                group.cancelAll()
            }
            #expect(Array(seen.withLock { $0 }.prefix(2)) == ["d/a@100", "d/a@101"])
        }
    }
}
