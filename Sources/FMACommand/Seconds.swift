public import ArgumentParser
import FMARPC

/// A number of seconds given on the command line. Anything but a finite number from 0 to 10⁹
/// (NaN, ±inf, 1e308, a negative number, a word) is a usage error naming the flag, so no value
/// can trap later when it becomes a `Duration`.
public struct Seconds: ExpressibleByArgument, Sendable, Hashable, CustomStringConvertible {
    public let value: Double

    /// A default written in the code; it must be in range.
    public init(_ value: Double) {
        precondition(AcceptedSeconds.duration(value) != nil, "\(value) is not \(AcceptedSeconds.requirement)")
        self.value = value
    }

    public init?(argument: String) {
        guard let value = Double(argument), AcceptedSeconds.duration(value) != nil else { return nil }
        self.value = value
    }

    public var duration: Duration { AcceptedSeconds.duration(value) ?? .zero }

    public var description: String {
        value == value.rounded() ? String(Int64(value)) : String(value)
    }

    public static var defaultCompletionKind: CompletionKind { .default }
}
