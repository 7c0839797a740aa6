public import FMAJSON
public import Foundation

/// A Kubernetes resource quantity (`resource.Quantity`): `8`, `100m`, `8Gi`, `1.5e3`, read into
/// an exact decimal so that comparisons are exact (`128974848`, `123Mi` and `128974848000m`
/// are equal; `129M` is more).
///
/// The grammar is Kubernetes': a signed decimal number (`1`, `1.5`, `.5`, `5.`) and at most one
/// suffix: binary (`Ki Mi Gi Ti Pi Ei`, powers of 1024), decimal (`n u m k M G T P E`, powers of
/// 1000; `u` is micro) or a decimal exponent (`e3`, `E-2`). As Kubernetes does, a value with
/// digits below one nano is rounded up to the next nano, and a magnitude above 2⁶³−1 is capped
/// there.
public struct Quantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The exact value (in the resource's base unit: cores, bytes, devices).
    public let value: Decimal
    /// The text it was read from (a JSON number is read as its decimal text).
    public let text: String

    public var description: String { text }

    /// Reads `text`; throws naming what is wrong with it.
    public init(_ text: String) throws(QuantityError) {
        self.text = text
        value = try Self.parse(text)
    }

    /// A quantity from JSON: a string, or a number as Kubernetes also accepts one.
    public init(json: JSONValue) throws(QuantityError) {
        switch json {
        case .string(let text): try self.init(text)
        case .int(let number): try self.init(String(number))
        case .double(let number): try self.init("\(number)")
        default: throw QuantityError(text: "\(json)", reason: "a quantity is a string such as \"8Gi\" or \"500m\", or a number")
        }
    }

    /// Whether `json` is a quantity Kubernetes would accept.
    public static func isValid(_ json: JSONValue) -> Bool {
        (try? Quantity(json: json)) != nil
    }

    public static func < (a: Quantity, b: Quantity) -> Bool { a.value < b.value }
    public static func == (a: Quantity, b: Quantity) -> Bool { a.value == b.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }

    // MARK: - Parsing

    static let binarySuffixes: [String: Int] = ["Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60]
    static let decimalSuffixes: [String: Int] = ["n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18]
    /// 2⁶³ − 1, the largest magnitude Kubernetes keeps.
    static let maximum = Decimal(string: "9223372036854775807")!

    private static func parse(_ text: String) throws(QuantityError) -> Decimal {
        func fail(_ reason: String) -> QuantityError { QuantityError(text: text, reason: reason) }
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let suffix = rest.dropFirst(number.count)
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard !number.isEmpty, parts.count <= 2, parts.contains(where: { !$0.isEmpty }) else {
            throw fail(text.isEmpty ? "it is empty" : "it does not start with a number (digits with at most one decimal point)")
        }
        let integerDigits = String(parts[0])
        let fractionDigits = parts.count == 2 ? String(parts[1]) : ""
        let digits = (integerDigits + fractionDigits).drop { $0 == "0" }
        var exponent10 = -fractionDigits.count
        var exponent2 = 0
        if let power = binarySuffixes[String(suffix)] {
            exponent2 = power
        } else if let power = decimalSuffixes[String(suffix)] {
            exponent10 += power
        } else if let e = suffix.first, e == "e" || e == "E" {
            let power = suffix.dropFirst()
            let magnitude = power.drop { $0 == "+" || $0 == "-" }
            guard power.count - magnitude.count <= 1, !magnitude.isEmpty, magnitude.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw fail("the exponent after \"\(e)\" must be a whole number, as in 1e3 or 5E-2")
            }
            guard magnitude.count <= 6, let value = Int(magnitude) else { throw fail("the exponent is out of range") }
            exponent10 += power.first == "-" ? -value : value
        } else {
            throw fail("unknown suffix \"\(suffix)\"; use one of Ki Mi Gi Ti Pi Ei (powers of 1024), n u m k M G T P E (powers of 1000) or an exponent such as e3")
        }
        guard !digits.isEmpty else { return 0 }
        // Above 2^63 − 1 whatever the digits below: cap (digits + exponent counts the magnitude).
        let magnitude10 = digits.count + exponent10 + (exponent2 * 3 + 9) / 10
        if magnitude10 > 20 { return negative ? -maximum : maximum }
        // Below one nano entirely: the smallest quantity, one nano.
        if digits.count + exponent10 + exponent2 / 3 < -9 { return Decimal(sign: negative ? .minus : .plus, exponent: -9, significand: 1) }
        // Keep at most 38 significant digits (Decimal's precision), rounding the rest up.
        let kept = digits.prefix(38)
        var significand = Decimal(string: String(kept))!
        if digits.dropFirst(38).contains(where: { $0 != "0" }) { significand += 1 }
        var value = Decimal(sign: .plus, exponent: exponent10 + (digits.count - kept.count), significand: significand)
        if exponent2 > 0 { value *= pow(Decimal(2), exponent2) }
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 9, .up)
        if rounded > maximum { rounded = maximum }
        return negative ? -rounded : rounded
    }
}

/// A quantity that cannot be read, with the text and the reason.
public struct QuantityError: Error, Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let reason: String

    public var description: String { "quantity \"\(text)\" is invalid: \(reason)" }
}
