/// Splitting and decoding request targets: path segments and query parameters.
enum HTTPPath {
    /// A request target split into its raw path and raw query (without the `?`); the fragment,
    /// which clients should not send, is dropped.
    static func split(target: String) -> (path: Substring, query: Substring?) {
        let target = Substring(target).prefix { $0 != "#" }
        guard let mark = target.firstIndex(of: "?") else { return (target, nil) }
        return (target[..<mark], target[target.index(after: mark)...])
    }

    /// The segments of an absolute path: "/a/b" → ["a", "b"], "/" → [], "/a/" → ["a", ""].
    static func segments(of path: Substring) -> [String] {
        let body = path.dropFirst()
        guard !body.isEmpty else { return [] }
        return body.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    }

    /// The segments of an absolute path, each percent-decoded (`+` stays `+`); nil when one is
    /// not valid percent-encoded UTF-8.
    static func decodedSegments(of path: Substring) -> [String]? {
        var decoded: [String] = []
        for segment in segments(of: path) {
            guard let value = decode(Substring(segment), plusIsSpace: false) else { return nil }
            decoded.append(value)
        }
        return decoded
    }

    /// The query's parameters, decoded; the first value of a repeated name wins. Nil when a
    /// name or value is not valid percent-encoding (or not UTF-8 once decoded).
    static func parameters(of query: Substring) -> [String: String]? {
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let equals = pair.firstIndex(of: "=") {
                name = pair[..<equals]
                value = pair[pair.index(after: equals)...]
            } else {
                name = pair
                value = ""
            }
            guard let decodedName = decode(name, plusIsSpace: true), let decodedValue = decode(value, plusIsSpace: true) else {
                return nil
            }
            if parameters[decodedName] == nil { parameters[decodedName] = decodedValue }
        }
        return parameters
    }

    /// Percent-decodes `text`; nil when a `%` is not followed by two hex digits or the bytes are
    /// not UTF-8.
    static func decode(_ text: Substring, plusIsSpace: Bool) -> String? {
        guard text.contains("%") || (plusIsSpace && text.contains("+")) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
