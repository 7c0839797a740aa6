import NIOCore

extension TimeAmount {
    /// The same span as a `Duration`, to the nanosecond; negative spans are zero and spans past
    /// `AcceptedSeconds.limit` are that limit (beyond it, the event loop's deadline arithmetic
    /// would overflow).
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { self = .zero; return }
        guard seconds < Int64(AcceptedSeconds.limit) else { self = .seconds(Int64(AcceptedSeconds.limit)); return }
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
