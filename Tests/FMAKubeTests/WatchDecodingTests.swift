@testable import FMAKube
import FMAJSON
import FMAKubeModel
import Testing

@Suite("watch stream decoding")
struct WatchDecodingTests {
    static let stream = Array((
        #"{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"1"}}}"# + "\n" +
        #"{"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"2"},"spec":{"nodeName":"n☃"}}}"# + "\r\n" +
        "\n" +
        #"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"5"}}}"# + "\n" +
        #"{"type":"DELETED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"6"}}}"#
    ).utf8)

    /// Splits `bytes` at `cuts` and returns the lines found, the final one from `finish()`.
    static func lines(_ bytes: [UInt8], cuts: [Int]) throws -> [[UInt8]] {
        var splitter = LineSplitter()
        var lines: [[UInt8]] = []
        var start = 0
        for cut in cuts.sorted() + [bytes.count] where cut >= start {
            lines += try splitter.append(bytes[start..<cut])
            start = cut
        }
        if let rest = splitter.finish() { lines.append(rest) }
        return lines
    }

    @Test func sameLinesWhateverTheChunkBoundaries() throws {
        let expected = try Self.lines(Self.stream, cuts: [])
        #expect(expected.count == 4)
        // Every single cut point, and every pair of cut points in the first lines (which puts
        // cuts inside "\r\n" and inside the multi-byte snowman).
        for cut in 0...Self.stream.count {
            #expect(try Self.lines(Self.stream, cuts: [cut]) == expected)
        }
        for a in stride(from: 0, to: 200, by: 1) {
            for b in stride(from: a, to: 200, by: 7) {
                #expect(try Self.lines(Self.stream, cuts: [a, b]) == expected)
            }
        }
        // Byte by byte.
        #expect(try Self.lines(Self.stream, cuts: Array(0..<Self.stream.count)) == expected)
    }

    @Test func splitterLimitsLineLength() throws {
        var splitter = LineSplitter(maxLineBytes: 10)
        #expect(throws: LineSplitter.LineTooLong.self) { try splitter.append(Array("0123456789ABC".utf8)) }
        var ok = LineSplitter(maxLineBytes: 10)
        #expect(try ok.append(Array("0123\n5678\n".utf8)).count == 2)
    }

    @Test func eventsDecodeAndErrorsThrow() throws {
        let lines = try Self.lines(Self.stream, cuts: [17, 99])
        let events = try lines.map { line throws(KubeError) in try WatchEvent<Pod>(line: line, request: "WATCH /api/v1/pods") }
        #expect(events.map(\.type) == [.added, .modified, .bookmark, .deleted])
        #expect(events[1].object.spec.nodeName == "n☃")
        #expect(events[2].object.metadata.resourceVersion == "5")

        let gone = #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (50)","reason":"Expired","code":410}}"#
        do {
            _ = try WatchEvent<Pod>(line: Array(gone.utf8), request: "WATCH /api/v1/pods")
            Issue.record("an ERROR event must throw")
        } catch {
            #expect(error.code == .api)
            #expect(error.isGone)
            #expect(error.status?.message.contains("too old") == true)
        }
        #expect(throws: KubeError.self) { try WatchEvent<Pod>(line: Array("{not json".utf8), request: "w") }
        #expect(throws: KubeError.self) { try WatchEvent<Pod>(line: Array(#"{"type":"SOMETHING","object":{}}"#.utf8), request: "w") }
    }
}
