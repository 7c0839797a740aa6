import FMADevCluster
import FMAHTTPClient
import FMAJSON
import FMAKubeModel
import FMATestSupport
import Foundation
import Testing

/// Watches over HTTPS: events as JSON lines, resuming from a resourceVersion, 410, bookmarks.
@Suite("API server: watches")
struct APIWatchTests {
    @Test("a watch from a list's resourceVersion sees later changes as JSON lines")
    func watchSeesChanges() async throws {
        try await withAPICluster { cluster in
            let path = "/api/v1/namespaces/default/configmaps"
            #expect(try await cluster.send(.post, path, json: configMapJSON("before")).status == 201)
            let rv = try #require(try await cluster.send(.get, path).json?[path: ["metadata", "resourceVersion"]]?.string)
            let watch = try await WatchReader(cluster, "\(path)?watch=true&resourceVersion=\(rv)")
            #expect(watch.status == 200)
            #expect(try await cluster.send(.post, path, json: configMapJSON("w", labels: ["a": "1"])).status == 201)
            #expect(try await cluster.send(.patch, "\(path)/w", json: ["data": ["k": "v"]], contentType: "application/merge-patch+json").status == 200)
            #expect(try await cluster.send(.delete, "\(path)/w").status == 200)
            let events = try await watch.next(3)
            #expect(events.map { $0["type"]?.string ?? "" } == ["ADDED", "MODIFIED", "DELETED"])
            #expect(events.allSatisfy { $0[path: ["object", "metadata", "name"]] == "w" })
            #expect(events[1][path: ["object", "data", "k"]] == "v")
            watch.cancel()
        }
    }

    @Test("a watch without a resourceVersion starts with an ADDED for each object; selectors filter")
    func watchFromNow() async throws {
        try await withAPICluster { cluster in
            let path = "/api/v1/namespaces/default/configmaps"
            #expect(try await cluster.send(.post, path, json: configMapJSON("web", labels: ["tier": "web"])).status == 201)
            #expect(try await cluster.send(.post, path, json: configMapJSON("db", labels: ["tier": "db"])).status == 201)
            let watch = try await WatchReader(cluster, "\(path)?watch=1&labelSelector=tier%3Dweb")
            #expect(try await cluster.send(.post, path, json: configMapJSON("db2", labels: ["tier": "db"])).status == 201)
            #expect(try await cluster.send(.post, path, json: configMapJSON("web2", labels: ["tier": "web"])).status == 201)
            let events = try await watch.next(2)
            #expect(events.map { $0[path: ["object", "metadata", "name"]]?.string ?? "" } == ["web", "web2"])
            #expect(events.allSatisfy { $0["type"] == "ADDED" })
            watch.cancel()
        }
    }

    @Test("a watch from a resourceVersion older than the history gets an ERROR event with 410 Expired")
    func watchTooOld() async throws {
        try await withAPICluster(configure: { $0.historyLimit = 3 }) { cluster in
            let path = "/api/v1/namespaces/default/configmaps"
            for index in 0..<6 {
                #expect(try await cluster.send(.post, path, json: configMapJSON("c\(index)")).status == 201)
            }
            let watch = try await WatchReader(cluster, "\(path)?watch=true&resourceVersion=1")
            #expect(watch.status == 200)
            let event = try #require(try await watch.next(1).first)
            #expect(event["type"] == "ERROR")
            #expect(event[path: ["object", "kind"]] == "Status")
            #expect(event[path: ["object", "code"]] == 410)
            #expect(event[path: ["object", "reason"]] == "Expired")
            #expect(try await watch.end())
        }
    }

    @Test("watches that allow bookmarks get them; timeoutSeconds ends the stream")
    func bookmarksAndTimeout() async throws {
        try await withAPICluster(configure: { $0.bookmarkInterval = .milliseconds(50) }) { cluster in
            let path = "/api/v1/namespaces/default/configmaps"
            let watch = try await WatchReader(cluster, "\(path)?watch=true&allowWatchBookmarks=true&resourceVersion=\(cluster.store.resourceVersion)")
            let bookmark = try #require(try await watch.next(1).first)
            #expect(bookmark["type"] == "BOOKMARK")
            #expect(bookmark[path: ["object", "metadata", "resourceVersion"]]?.string?.isEmpty == false)
            watch.cancel()

            let short = try await WatchReader(cluster, "\(path)?watch=true&timeoutSeconds=1&resourceVersion=\(cluster.store.resourceVersion)")
            #expect(try await short.end())
        }
    }
}

/// Reads a watch stream line by line, every wait bounded.
final class WatchReader: @unchecked Sendable {
    let response: HTTPClientStreamingResponse
    private var iterator: HTTPClientStreamingResponse.Body.AsyncIterator
    private var buffer: [UInt8] = []
    private var ended = false

    var status: Int { response.status }

    init(_ cluster: APITestCluster, _ path: String) async throws {
        response = try await cluster.client.stream(HTTPClientRequest(.get, cluster.url + path, timeout: .seconds(30)))
        iterator = response.body.makeAsyncIterator()
    }

    /// The next `count` events (bounded by `timeout`).
    func next(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [JSONObject] {
        var events: [JSONObject] = []
        let deadline = ContinuousClock.now + timeout
        while events.count < count {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if let object = try JSONValue(parsing: line).object { events.append(object) }
                continue
            }
            guard ContinuousClock.now < deadline else { throw TestSupportError("timed out waiting for watch events; got \(events)") }
            guard !ended, let chunk = try await iterator.next() else {
                ended = true
                throw TestSupportError("the watch ended after \(events.count) of \(count) events")
            }
            buffer += chunk
        }
        return events
    }

    /// Whether the stream ends (with no more events) before `timeout`.
    func end(timeout: Duration = .seconds(10)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !ended, ContinuousClock.now < deadline {
            guard let chunk = try await iterator.next() else { ended = true; break }
            buffer += chunk
        }
        return ended && buffer.allSatisfy { $0 == UInt8(ascii: "\n") }
    }

    func cancel() {
        response.cancel()
    }
}

/// `pods/NAME/log` from the file the log source names.
@Suite("API server: pod logs")
struct APIPodLogTests {
    @Test("a container's log whole, its last lines, its previous run's, followed as it grows; empty for a started container without one")
    func podLog() async throws {
        try await withAPICluster { cluster in
            let file = cluster.endpoints.kubeconfigPath + ".log"
            try "one\ntwo\nthree\n".write(toFile: file, atomically: true, encoding: .utf8)
            cluster.cluster.api.logSource.set { namespace, pod, container in
                namespace == "default" && pod == "p" && container == "c" ? file : nil
            }
            let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"],
                                  "spec": ["containers": [["name": "c", "image": "busybox"], ["name": "d", "image": "busybox"]]]]
            #expect(try await cluster.send(.post, "/api/v1/namespaces/default/pods", json: pod).status == 201)
            let path = "/api/v1/namespaces/default/pods/p/log"
            #expect(try await cluster.send(.get, "\(path)?container=c").text == "one\ntwo\nthree\n")
            #expect(try await cluster.send(.get, "\(path)?container=c&tailLines=2").text == "two\nthree\n")
            let unnamed = try await cluster.send(.get, path)
            #expect(unnamed.status == 400)
            #expect(unnamed.message.contains("choose one of: [c d]"))
            #expect(try await cluster.send(.get, "\(path)?container=d").status == 400)
            // A started container without a log file (a simulated one) has an empty log.
            let running: JSONValue = ["status": ["containerStatuses": [["name": "d", "state": ["running": ["startedAt": "2026-01-01T00:00:00Z"]]]]]]
            #expect(try await cluster.send(.patch, "/api/v1/namespaces/default/pods/p/status", raw: running.serializedString(),
                                           contentType: "application/merge-patch+json").status == 200)
            let empty = try await cluster.send(.get, "\(path)?container=d")
            #expect(empty.status == 200 && empty.text.isEmpty)

            // --previous: 400 as on a real API server until the container ran before; then that
            // run's log, kept beside the current one.
            let noPrevious = try await cluster.send(.get, "\(path)?container=c&previous=true")
            #expect(noPrevious.status == 400)
            #expect(noPrevious.message == "previous terminated container \"c\" in pod \"p\" not found")
            try "before the restart\n".write(toFile: PodLogSource.previousPath(of: file), atomically: true, encoding: .utf8)
            let restarted: JSONValue = ["status": ["containerStatuses": [
                ["name": "c", "restartCount": 1, "state": ["running": ["startedAt": "2026-01-01T00:00:01Z"]],
                 "lastState": ["terminated": ["exitCode": 1, "finishedAt": "2026-01-01T00:00:00Z"]]],
                ["name": "d", "state": ["running": ["startedAt": "2026-01-01T00:00:00Z"]]],
            ]]]
            #expect(try await cluster.send(.patch, "/api/v1/namespaces/default/pods/p/status", raw: restarted.serializedString(),
                                           contentType: "application/merge-patch+json").status == 200)
            #expect(try await cluster.send(.get, "\(path)?container=c&previous=true").text == "before the restart\n")
            #expect(try await cluster.send(.get, "\(path)?container=c").text == "one\ntwo\nthree\n")

            let follow = try await WatchReader(cluster, "\(path)?container=c&follow=true&tailLines=0")
            let handle = try #require(FileHandle(forWritingAtPath: file))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("{\"four\": 4}\n".utf8))
            try handle.close()
            let lines = try await follow.next(1)
            #expect(lines.first?["four"] == 4)
            follow.cancel()
        }
    }
}
