import FMAJSON
import FMAKube
import FMAKubeModel
import FMATestSupport

import Testing

/// A list-and-watch source the test drives: lists answer from `objects`, each watch is an
/// `AsyncThrowingStream` the test feeds and ends.
final class FakeSource: ListerWatcher, Sendable {
    struct State {
        var objects: [ConfigMap] = []
        var resourceVersion = "0"
        var pageSize: Int?
        var lists = 0
        var watches: [(from: String, continuation: AsyncThrowingStream<WatchEvent<ConfigMap>, any Error>.Continuation)] = []
        var failNextList: KubeError?
    }

    let state = Locked(State())

    func list(limit: Int?, continue token: String?) async throws(KubeError) -> ObjectList<ConfigMap> {
        let result: Result<ObjectList<ConfigMap>, KubeError> = state.withLock { state in
            if let error = state.failNextList {
                state.failNextList = nil
                return .failure(error)
            }
            state.lists += 1
            state.pageSize = limit
            // Pages of `limit` items; the token is the next index.
            let start = Int(token ?? "0") ?? 0
            let end = min(state.objects.count, start + (limit ?? state.objects.count))
            let next = end < state.objects.count ? String(end) : nil
            return .success(ObjectList(items: Array(state.objects[start..<end]), resourceVersion: state.resourceVersion, continueToken: next))
        }
        return try result.get()
    }

    func watch(resourceVersion: String) async throws(KubeError) -> AsyncThrowingStream<WatchEvent<ConfigMap>, any Error> {
        let (stream, continuation) = AsyncThrowingStream<WatchEvent<ConfigMap>, any Error>.makeStream()
        state.withLock { $0.watches.append((resourceVersion, continuation)) }
        return stream
    }

    var watchCount: Int { state.withLock { $0.watches.count } }
    var lastWatch: (from: String, continuation: AsyncThrowingStream<WatchEvent<ConfigMap>, any Error>.Continuation) {
        state.withLock { $0.watches.last! }
    }
}

func configMap(_ name: String, rv: String, data: [String: String] = [:]) -> ConfigMap {
    var cm = ConfigMap(name: name, namespace: "ns")
    cm.metadata.resourceVersion = rv
    cm.data = data
    return cm
}

/// What handlers saw, as short strings: `+name@rv`, `~name@oldrv>newrv`, `-name@rv`.
final class Recorder: Sendable {
    let events = Locked<[String]>([])

    func handle(_ event: InformerEvent<ConfigMap>) {
        let text = switch event {
        case .added(let o): "+\(o.metadata.name)@\(o.metadata.resourceVersion)"
        case .updated(let old, let new): "~\(new.metadata.name)@\(old.metadata.resourceVersion)>\(new.metadata.resourceVersion)"
        case .deleted(let o): "-\(o.metadata.name)@\(o.metadata.resourceVersion)"
        }
        events.withLock { $0.append(text) }
    }

    func take() -> [String] {
        events.withLock { events in
            defer { events = [] }
            return events
        }
    }
}

@Suite("informer")
struct InformerTests {
    private func withInformer(
        _ source: FakeSource, pageSize: Int? = 2, transform: (@Sendable (ConfigMap) -> ConfigMap)? = nil,
        _ body: (Informer<FakeSource>, Recorder) async throws -> Void
    ) async throws {
        var options = Informer<FakeSource>.Options()
        options.pageSize = pageSize
        options.transform = transform
        options.backoff = ExponentialBackoff(initial: .milliseconds(1), maximum: .milliseconds(5))
        let informer = Informer(source, indexes: ["byKind": { [$0.data["kind"] ?? "none"] }], options: options)
        let recorder = Recorder()
        informer.addHandler { recorder.handle($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await informer.run() }
            try await body(informer, recorder)
            group.cancelAll()
            // Unblock the watch the informer may be reading.
            for watch in source.state.withLock({ $0.watches }) { watch.continuation.finish() }
        }
    }

    @Test("a transform applies to listed and watched objects before the cache and the handlers")
    func transformsWhatItCaches() async throws {
        let source = FakeSource()
        source.state.withLock {
            $0.objects = [configMap("a", rv: "1", data: ["kind": "x", "bulk": "dropped"])]
            $0.resourceVersion = "1"
        }
        let seenBulk = Locked(false)
        try await withInformer(source, transform: { cm in
            var cm = cm
            cm.data["bulk"] = nil
            return cm
        }) { informer, recorder in
            informer.addHandler { event in
                if case .added(let cm) = event, cm.data["bulk"] != nil { seenBulk.withLock { $0 = true } }
                if case .updated(_, let cm) = event, cm.data["bulk"] != nil { seenBulk.withLock { $0 = true } }
            }
            #expect(await informer.waitForSync())
            #expect(informer.cache.get("ns/a")?.data == ["kind": "x"])
            try await waitUntil("a watch") { source.watchCount == 1 }
            source.lastWatch.continuation.yield(WatchEvent(type: .modified, object: configMap("a", rv: "2", data: ["kind": "y", "bulk": "dropped"])))
            try await waitUntil("the update") { informer.cache.get("ns/a")?.metadata.resourceVersion == "2" }
            #expect(informer.cache.get("ns/a")?.data == ["kind": "y"])
            #expect(!seenBulk.withLock { $0 })
            _ = recorder.take()
        }
    }

    @Test func listsInPagesThenFollowsTheWatch() async throws {
        let source = FakeSource()
        source.state.withLock {
            $0.objects = [configMap("a", rv: "1", data: ["kind": "x"]), configMap("b", rv: "2", data: ["kind": "y"]), configMap("c", rv: "3", data: ["kind": "x"])]
            $0.resourceVersion = "3"
        }
        try await withInformer(source) { informer, recorder in
            #expect(await informer.waitForSync())
            #expect(informer.hasSynced)
            #expect(source.state.withLock { $0.pageSize } == 2)
            #expect(Set(recorder.take()) == ["+a@1", "+b@2", "+c@3"])
            #expect(Set(informer.cache.byIndex("byKind", "x").map(\.metadata.name)) == ["a", "c"])
            try await waitUntil("a watch") { source.watchCount == 1 }
            #expect(source.lastWatch.from == "3")

            let watch = source.lastWatch.continuation
            watch.yield(WatchEvent(type: .modified, object: configMap("a", rv: "4", data: ["kind": "y"])))
            watch.yield(WatchEvent(type: .added, object: configMap("d", rv: "5")))
            watch.yield(WatchEvent(type: .added, object: configMap("d", rv: "5"))) // a repeat: not delivered
            watch.yield(WatchEvent(type: .deleted, object: configMap("b", rv: "6")))
            watch.yield(WatchEvent(type: .bookmark, object: configMap("", rv: "9")))
            try await waitUntil("the bookmark") { informer.lastResourceVersion == "9" }
            #expect(recorder.take() == ["~a@1>4", "+d@5", "-b@6"])
            #expect(Set(informer.cache.byIndex("byKind", "y").map(\.metadata.name)) == ["a"])
            #expect(informer.cache.get("ns/b") == nil)
            #expect(informer.cache.count == 3)

            // The server ends the watch: the informer resumes from the bookmark, no relist.
            watch.finish()
            try await waitUntil("a second watch") { source.watchCount == 2 }
            #expect(source.lastWatch.from == "9")
            #expect(source.state.withLock { $0.lists } == 2) // two pages of the first list
            // A broken stream: resumed from the last version too, after a backoff.
            source.lastWatch.continuation.yield(WatchEvent(type: .modified, object: configMap("c", rv: "10")))
            source.lastWatch.continuation.finish(throwing: KubeError(.transport, "connection reset"))
            try await waitUntil("a third watch") { source.watchCount == 3 }
            #expect(source.lastWatch.from == "10")
            #expect(recorder.take() == ["~c@3>10"])
        }
    }

    @Test func goneRelistsAndDeliversExactlyTheDifference() async throws {
        let source = FakeSource()
        source.state.withLock {
            $0.objects = [configMap("keep", rv: "1"), configMap("change", rv: "2"), configMap("vanish", rv: "3")]
            $0.resourceVersion = "3"
        }
        try await withInformer(source) { informer, recorder in
            #expect(await informer.waitForSync())
            try await waitUntil("a watch") { source.watchCount == 1 }
            _ = recorder.take()
            // While the watch was away: "change" changed, "vanish" was deleted, "new" created,
            // and history was compacted: the watch answers 410.
            source.state.withLock {
                $0.objects = [configMap("keep", rv: "1"), configMap("change", rv: "20"), configMap("new", rv: "21")]
                $0.resourceVersion = "22"
            }
            source.lastWatch.continuation.finish(throwing: KubeError.api(.gone("too old resource version"), request: "WATCH"))
            try await waitUntil("a watch after the relist") { source.watchCount == 2 }
            #expect(source.lastWatch.from == "22")
            #expect(Set(recorder.take()) == ["~change@2>20", "-vanish@3", "+new@21"])
            #expect(Set(informer.cache.keys) == ["ns/keep", "ns/change", "ns/new"])
        }
    }

    @Test func failedListIsRetriedAndLateHandlersGetTheCache() async throws {
        let source = FakeSource()
        source.state.withLock {
            $0.objects = [configMap("a", rv: "1")]
            $0.failNextList = KubeError(.transport, "connection refused")
        }
        try await withInformer(source, pageSize: nil) { informer, recorder in
            #expect(await informer.waitForSync())
            #expect(recorder.take() == ["+a@1"])
            let late = Recorder()
            informer.addHandler { late.handle($0) }
            #expect(late.take() == ["+a@1"])
            try await waitUntil("a watch") { source.watchCount == 1 }
            source.lastWatch.continuation.yield(WatchEvent(type: .added, object: configMap("b", rv: "2")))
            try await waitUntil("the event") { informer.cache.count == 2 }
            #expect(late.take() == ["+b@2"])
            #expect(recorder.take() == ["+b@2"])
        }
    }

    @Test func waitForSyncAfterRunEndedUnsyncedReturnsFalse() async throws {
        let source = FakeSource()
        source.state.withLock { $0.failNextList = KubeError(.transport, "connection refused") }
        let informer = Informer(source)
        let run = Task { await informer.run() }
        run.cancel()
        await run.value
        // Without an answer within 10 s the wait hangs: report that instead of hanging.
        let answer = await withTaskGroup(of: Bool?.self) { group in
            group.addTask { await informer.waitForSync() }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        #expect(answer == false)
        #expect(!informer.hasSynced)
    }

    @Test func waitForSyncEndsWhenCancelled() async {
        let informer = Informer(FakeSource())
        let task = Task { await informer.waitForSync() }
        task.cancel()
        #expect(await task.value == false)
    }
}
