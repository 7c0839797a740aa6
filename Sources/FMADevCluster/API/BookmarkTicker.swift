public import ServiceLifecycle

/// Sends every watch a BOOKMARK at a fixed interval (watches that did not ask for bookmarks
/// drop them), so a client's resume point keeps up with the store even when nothing it
/// watches changes.
public struct BookmarkTicker: Service {
    let store: ObjectStore
    let interval: Duration

    public init(store: ObjectStore, interval: Duration) {
        self.store = store
        self.interval = interval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                store.emitBookmarks()
            }
        }
    }
}
