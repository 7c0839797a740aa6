import NIOConcurrencyHelpers

/// Client-side rate limiting of API requests: a token bucket shared by every request of one
/// client. A request over the rate waits (suspended, not blocking a thread) for its token.
///
/// client-go's default (5 requests a second, burst 10) throttles a controller that watches
/// thousands of Pods; `KubeClient.Options` defaults to 50/100.
public final class RateLimiter: Sendable {
    private let bucket: NIOLockedValueBox<TokenBucket>

    /// `qps` ≤ 0 disables limiting.
    public init(qps: Double, burst: Int) {
        bucket = NIOLockedValueBox(TokenBucket(qps: qps, burst: burst))
    }

    /// Waits until the caller may send one request. Throws `CancellationError` when the task is
    /// cancelled while waiting.
    public func acquire() async throws {
        let wait = bucket.withLockedValue { $0.reserve(at: .now) }
        if wait > .zero {
            try await Task.sleep(for: wait)
        }
    }
}
