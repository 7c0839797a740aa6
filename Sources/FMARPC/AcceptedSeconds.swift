/// Spans of time that come from outside (flags, files, wire fields) as numbers of seconds.
///
/// Turning a `Double` into a `Duration` or an `Int64` traps when it is NaN, infinite or too large,
/// so every such value is checked here first: a finite number from 0 to `limit`.
public enum AcceptedSeconds {
    /// The longest span accepted anywhere: 10⁹ s, about 31 years.
    public static let limit: Double = 1_000_000_000

    /// The longest span in milliseconds, for integer fields such as a frame's `timeout_ms`.
    public static let limitMilliseconds: UInt64 = 1_000_000_000_000

    /// `seconds` as a `Duration`, or nil when it is NaN, infinite, negative or above `limit`.
    public static func duration(_ seconds: Double) -> Duration? {
        guard seconds.isFinite, seconds >= 0, seconds <= limit else { return nil }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// What a refused value must be, for error messages.
    public static let requirement = "a finite number of seconds from 0 to 1000000000"
}
