public import ArgumentParser

/// A duration written as Go writes it on command lines (`5s`, `2m`, `7m30s`, `1.5h`, `300ms`),
/// so flags keep the syntax of FMA's manifests. Units: ns, us (µs), ms, s, m, h; a bare `0`
/// is zero; anything else is an error naming the text.
public struct GoDuration: ExpressibleByArgument, Sendable, Hashable, CustomStringConvertible {
    public let duration: Duration
    public let text: String

    public var description: String { text }
    public var defaultValueDescription: String { text }

    private static let units: [(suffix: String, nanoseconds: Double)] = [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    public init?(argument: String) {
        guard let nanoseconds = Self.parse(argument) else { return nil }
        text = argument
        duration = .nanoseconds(Int64(nanoseconds.rounded()))
    }

    /// Nanoseconds, or nil when `text` is not a Go duration.
    static func parse(_ text: String) -> Double? {
        var rest = Substring(text)
        var sign = 1.0
        if let first = rest.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let scale = units.first(where: { $0.suffix == unit })?.nanoseconds else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * scale
        }
        guard total * sign < 9.2e18 else { return nil }
        return total * sign
    }
}
