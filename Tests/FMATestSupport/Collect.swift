import NIOConcurrencyHelpers

/// The elements of `sequence` up to the first one `stop` accepts (included), or those that
/// arrived before `timeout` passed: a test's loop over a stream is bounded in time.
public func collect<S: AsyncSequence & Sendable>(_ sequence: S, timeout: Duration = .seconds(20),
                                                 until stop: @escaping @Sendable (S.Element) -> Bool) async -> [S.Element]
    where S.Element: Sendable {
    let seen = NIOLockedValueBox<[S.Element]>([])
    await withTaskGroup(of: Void.self) { group in
        group.addTask {
            do {
                for try await element in sequence {
                    seen.withLockedValue { $0.append(element) }
                    if stop(element) { return }
                }
            } catch {}
        }
        group.addTask { try? await Task.sleep(for: timeout) }
        await group.next()
        group.cancelAll()
    }
    return seen.withLockedValue { $0 }
}
