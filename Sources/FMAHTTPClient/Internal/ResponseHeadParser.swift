/// The status and header fields of a response.
struct ResponseHead: Sendable, Equatable {
    var status: Int
    var headers: HTTPClientHeaders
}

/// Builds the final response head from the header lines libcurl hands over one at a time
/// (status line, fields, blank line), skipping interim 1xx heads such as `100 Continue`.
///
/// Lines after the final head (trailers of a chunked body) are ignored.
struct ResponseHeadParser {
    private var status: Int?
    private var headers = HTTPClientHeaders()
    private(set) var isComplete = false

    /// Takes one line with or without its CRLF; returns the head when this line completes it.
    mutating func consume(_ line: some Collection<UInt8>) -> ResponseHead? {
        guard !isComplete else { return nil }
        var bytes = Array(line)
        while let last = bytes.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.isEmpty {
            guard let status else { return nil }
            if (100..<200).contains(status) {
                self.status = nil
                headers = HTTPClientHeaders()
                return nil
            }
            isComplete = true
            return ResponseHead(status: status, headers: headers)
        }
        if bytes.starts(with: "HTTP/".utf8) {
            // "HTTP/1.1 200 OK", "HTTP/2 200": the status is the second token.
            let tokens = bytes.split(separator: UInt8(ascii: " "), maxSplits: 2)
            status = tokens.count >= 2 ? Int(String(decoding: tokens[1], as: UTF8.self)) : nil
            headers = HTTPClientHeaders()
            return nil
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if bytes[0] == UInt8(ascii: " ") || bytes[0] == UInt8(ascii: "\t") {
            // An obsolete folded continuation of the previous field's value.
            if var last = headers.fields.last {
                last.value += " " + text.trimmingSpaces()
                var fields = headers.fields
                fields[fields.count - 1] = last
                headers = HTTPClientHeaders(fields)
            }
            return nil
        }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        headers.add(String(text[..<colon]), String(text[text.index(after: colon)...]).trimmingSpaces())
        return nil
    }
}
