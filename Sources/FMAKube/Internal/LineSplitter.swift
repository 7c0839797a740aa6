/// Cuts a byte stream that arrives in arbitrary chunks into lines (`\n`-terminated; a `\r`
/// before the `\n` is dropped; empty lines are skipped). A line longer than `maxLineBytes`
/// is an error rather than unbounded memory.
struct LineSplitter {
    struct LineTooLong: Error {
        var limit: Int
    }

    let maxLineBytes: Int
    private var buffer: [UInt8] = []
    /// Where in `buffer` to resume searching for `\n` (bytes before it have none).
    private var scanned = 0

    init(maxLineBytes: Int = 32 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Adds a chunk and returns the lines it completed, in order.
    mutating func append(_ chunk: some Collection<UInt8>) throws(LineTooLong) -> [[UInt8]] {
        buffer.append(contentsOf: chunk)
        var lines: [[UInt8]] = []
        var start = 0
        var index = scanned
        while index < buffer.count {
            if buffer[index] == UInt8(ascii: "\n") {
                var end = index
                if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                if end > start { lines.append(Array(buffer[start..<end])) }
                start = index + 1
            }
            index += 1
        }
        if start > 0 { buffer.removeFirst(start) }
        scanned = buffer.count
        if buffer.count > maxLineBytes { throw LineTooLong(limit: maxLineBytes) }
        return lines
    }

    /// What is left after the last `\n` when the stream ends: the final unterminated line, if any.
    mutating func finish() -> [UInt8]? {
        defer {
            buffer = []
            scanned = 0
        }
        var rest = buffer[...]
        if rest.last == UInt8(ascii: "\r") { rest = rest.dropLast() }
        return rest.isEmpty || rest.allSatisfy({ $0 == UInt8(ascii: " ") }) ? nil : Array(rest)
    }
}
