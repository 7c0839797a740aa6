extension JSONValue {
    /// The value as compact JSON text (UTF-8), members in their order.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        JSONWriter.write(self, to: &out, indent: nil, level: 0)
        return out
    }

    /// Appends the value as compact JSON text (UTF-8) to `out`: a stream of many values is
    /// written into one buffer without an array per value.
    public func serialize(into out: inout [UInt8]) {
        JSONWriter.write(self, to: &out, indent: nil, level: 0)
    }

    /// The value with every object's members sorted by key: the same data always serializes to
    /// the same bytes (what hashes of objects are taken over).
    public var canonical: JSONValue {
        switch self {
        case .object(let object):
            .object(JSONObject(object.keys.sorted().map { ($0, (object[$0] ?? .null).canonical) }))
        case .array(let items):
            .array(items.map(\.canonical))
        default:
            self
        }
    }

    /// `canonical`, as compact JSON text (UTF-8).
    public func canonicalSerialized() -> [UInt8] {
        canonical.serialized()
    }

    /// The value as JSON text; `pretty` indents by two spaces per level.
    public func serializedString(pretty: Bool = false) -> String {
        var out: [UInt8] = []
        JSONWriter.write(self, to: &out, indent: pretty ? 2 : nil, level: 0)
        return String(decoding: out, as: UTF8.self)
    }
}

extension JSONObject {
    /// The object as compact JSON text (UTF-8).
    public func serialized() -> [UInt8] {
        JSONValue.object(self).serialized()
    }
}

enum JSONWriter {
    static func write(_ value: JSONValue, to out: inout [UInt8], indent: Int?, level: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): writeDouble(d, to: &out)
        case .string(let s): writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (position, item) in items.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent: indent, level: level + 1)
                write(item, to: &out, indent: indent, level: level + 1)
            }
            if !items.isEmpty { newline(&out, indent: indent, level: level) }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, member) in object {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                newline(&out, indent: indent, level: level + 1)
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                write(member, to: &out, indent: indent, level: level + 1)
            }
            if !object.isEmpty { newline(&out, indent: indent, level: level) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], indent: Int?, level: Int) {
        guard let indent else { return }
        out.append(0x0A)
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * level))
    }

    private static func writeDouble(_ d: Double, to out: inout [UInt8]) {
        guard d.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        if d.rounded() == d, abs(d) < 1e15 {
            out.append(contentsOf: String(Int64(d)).utf8)
        } else {
            out.append(contentsOf: "\(d)".utf8)
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
