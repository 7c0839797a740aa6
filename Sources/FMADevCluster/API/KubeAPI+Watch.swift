import FMAHTTPServer
import FMAJSON
import FMAKubeModel
import NIOCore

/// Watches: a chunked stream of `{"type": …, "object": …}` lines, one per change.
extension KubeAPI {
    /// Starts a watch from `options.resourceVersion` (unset or "0": an ADDED for every current
    /// object first). A version older than the store's history is answered as a real API server
    /// does: the stream opens and carries one ERROR event with the 410 Expired `Status`. The
    /// stream ends after `timeoutSeconds`, when the client leaves, when the watcher falls too
    /// far behind (the client then watches again from the last version it saw), or at
    /// shutdown. BOOKMARK events pass only with `allowWatchBookmarks`.
    func watch(_ kind: ResourceKind, namespace: String?, options: ListOptions, format: ResponseFormat,
               _ request: HTTPRequest) throws(KubeStatus) -> HTTPResponse {
        let storeWatch: StoreWatch
        do {
            storeWatch = try store.watch(stored(kind), namespace: namespace, labels: options.labels, fields: options.fields, from: options.resourceVersion)
        } catch where error.code == 410 {
            let event = StoreEvent(type: .error, object: error.json)
            return .stream(contentType: APIResponse.jsonContentType) { writer in
                try await writer.write(Self.line(event.json))
            }
        }
        let converter = format == .table ? tableConverter(request) : nil
        let view = views[kind]
        let storedKind = stored(kind)
        let metrics = self.metrics
        let bookmarks = options.allowWatchBookmarks
        let timeout = options.timeoutSeconds
        let logger = self.logger
        return .stream(contentType: format == .table ? ResponseFormat.tableContentType : APIResponse.jsonContentType) { writer in
            metrics.watchStarted()
            logger.debug("watch started", metadata: ["resource": "\(kind)", "namespace": "\(namespace ?? "*")"])
            defer {
                storeWatch.cancel()
                metrics.watchEnded()
                logger.debug("watch ended", metadata: ["resource": "\(kind)", "namespace": "\(namespace ?? "*")"])
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let timeout {
                    group.addTask { try await Task.sleep(for: .seconds(timeout)) }
                }
                group.addTask {
                    // Everything pending goes out in one write: a burst of changes costs one
                    // TLS record and one flush, not one per event. A change's object is
                    // serialized once for all the watches that send it (not for a Table).
                    while let batch = await storeWatch.nextBatch() {
                        var bytes: [UInt8] = []
                        for event in batch {
                            if event.type == .bookmark && !bookmarks { continue }
                            var shown = event
                            if event.type == .added || event.type == .modified || event.type == .deleted {
                                if let converter {
                                    let rv = event.object[path: ["metadata", "resourceVersion"]]?.string
                                    shown.object = converter.table(storedKind, [event.object], resourceVersion: rv)
                                } else if let view {
                                    shown.object = view.fromStorage(event.object)
                                }
                            }
                            shown.serialize(into: &bytes)
                            bytes.append(UInt8(ascii: "\n"))
                        }
                        if !bytes.isEmpty { try await writer.write(ByteBuffer(bytes: bytes)) }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// One JSON line of a watch stream.
    static func line(_ object: JSONObject) -> ByteBuffer {
        var bytes = object.serialized()
        bytes.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: bytes)
    }
}
