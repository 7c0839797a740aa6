import FMAWire
import NIOCore
import NIOTestUtils
import Testing

@Suite("Frame codec")
struct FrameCodecTests {
    static func frame(_ id: UInt64, method: String = "fma.v1.Demo/Echo", payload: [UInt8] = [1, 2, 3]) -> Fma_V1_Frame {
        var frame = Fma_V1_Frame()
        frame.callID = id
        frame.request.method = method
        frame.request.payload = .init(payload)
        return frame
    }

    static func wire(_ frames: [Fma_V1_Frame]) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        for frame in frames { try FrameCodec.encode(frame, into: &buffer) }
        return buffer
    }

    @Test("frames survive any split of the input, byte at a time included")
    func anySplit() throws {
        let frames = (1...5).map { Self.frame(UInt64($0), payload: Array(repeating: UInt8($0), count: $0 * 100)) }
        let pairs = try frames.map { (try Self.wire([$0]), [$0]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder() }
    }

    @Test("several frames delivered in one read all come out, in order")
    func severalInOneRead() throws {
        let frames = (1...10).map { Self.frame(UInt64($0)) }
        var buffer = try Self.wire(frames)
        var decoded: [Fma_V1_Frame] = []
        while let frame = try FrameCodec.decode(from: &buffer, maxFrameBytes: 1024) { decoded.append(frame) }
        #expect(decoded == frames)
        #expect(buffer.readableBytes == 0)
    }

    @Test("an incomplete frame consumes nothing; at end of stream it is reported truncated")
    func truncated() throws {
        let full = try Self.wire([Self.frame(1)])
        var partial = full.getSlice(at: 0, length: full.readableBytes - 2)!
        #expect(try FrameCodec.decode(from: &partial, maxFrameBytes: 1024) == nil)
        #expect(partial.readableBytes == full.readableBytes - 2)
        #expect(throws: WireError.truncatedFrame(received: full.readableBytes - 2, expected: full.readableBytes)) {
            try FrameCodec.checkEndOfStream(partial)
        }
        var decoder = FrameDecoder()
        #expect(throws: WireError.self) { _ = try decoder.decodeLast(buffer: &partial, seenEOF: true) }
    }

    @Test("a length over the limit is rejected from the 4-byte prefix alone")
    func oversizedRejectedBeforeBody() throws {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(4 * 1024 * 1024 + 1), endianness: .big)
        #expect(throws: WireError.frameTooLarge(length: 4 * 1024 * 1024 + 1, limit: FrameCodec.defaultMaxFrameBytes)) {
            _ = try FrameCodec.decode(from: &buffer, maxFrameBytes: FrameCodec.defaultMaxFrameBytes)
        }
        // The limit is inclusive: a frame of exactly maxFrameBytes is accepted.
        let frame = Self.frame(9, payload: Array(repeating: 7, count: 100))
        var exact = try Self.wire([frame])
        let size = exact.readableBytes - FrameCodec.prefixBytes
        #expect(try FrameCodec.decode(from: &exact, maxFrameBytes: size) == frame)
        var over = try Self.wire([frame])
        #expect(throws: WireError.frameTooLarge(length: size, limit: size - 1)) {
            _ = try FrameCodec.decode(from: &over, maxFrameBytes: size - 1)
        }
    }

    @Test("garbage is an error, never a crash")
    func garbage() throws {
        // Text where a frame should be: its first four bytes read as a huge length.
        var http = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(throws: WireError.frameTooLarge(length: 0x4745_5420, limit: FrameCodec.defaultMaxFrameBytes)) {
            _ = try FrameCodec.decode(from: &http, maxFrameBytes: FrameCodec.defaultMaxFrameBytes)
        }
        // A plausible length followed by bytes that are not a Frame (field 0, truncated varint).
        var bad = ByteBuffer()
        bad.writeInteger(UInt32(3), endianness: .big)
        bad.writeBytes([0x00, 0xff, 0xff])
        do {
            _ = try FrameCodec.decode(from: &bad, maxFrameBytes: 1024)
            Issue.record("garbage decoded as a frame")
        } catch {
            guard case .malformedFrame = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.statusCode == .invalidArgument)
        }
        // Random bytes: every outcome is a frame or a WireError, never a trap.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var random = ByteBuffer(bytes: (0..<Int.random(in: 4...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            random.setInteger(UInt32(random.readableBytes - 4), at: 0, endianness: .big)
            _ = try? FrameCodec.decode(from: &random, maxFrameBytes: 1024)
        }
    }

    @Test("unknown fields survive a decode and re-encode")
    func unknownFieldsPreserved() throws {
        // A frame from a later protocol version: field 99 (varint 42) after the known ones.
        let body: [UInt8] = try Self.frame(5).serializedBytes() + [0x98, 0x06, 0x2a]
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(body.count), endianness: .big)
        buffer.writeBytes(body)
        let bytes = Array(buffer.readableBytesView)
        let decoded = try #require(try FrameCodec.decode(from: &buffer, maxFrameBytes: 1024))
        #expect(Array(decoded.unknownFields.data) == [0x98, 0x06, 0x2a])
        #expect(try FrameCodec.encode(decoded) == bytes)
    }
}
