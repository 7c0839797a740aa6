public import NIOCore
public import SwiftProtobuf

/// The length-prefixed framing of docs/wire-protocol.md §2: a 4-byte big-endian length, then
/// that many bytes of one `fma.v1.Frame`.
public enum FrameCodec {
    /// The default maximum size of one frame's protobuf bytes: 4 MiB.
    public static let defaultMaxFrameBytes = 4 * 1024 * 1024
    /// Bytes of the length prefix.
    public static let prefixBytes = 4
    /// An upper bound on what a frame adds around a response payload (call id, field tags,
    /// lengths), so a payload this much under the limit always fits in one frame.
    public static let responseOverheadBytes = 32

    /// The largest response payload that fits in a frame of at most `maxFrameBytes`.
    public static func maxResponsePayload(maxFrameBytes: Int) -> Int {
        maxFrameBytes - responseOverheadBytes
    }

    /// Appends `frame`, length prefix included, to `buffer`. Any message frames the same way
    /// (the launcher's zygote channel uses this framing for its own messages).
    public static func encode(_ frame: some Message, into buffer: inout ByteBuffer) throws {
        let body: [UInt8] = try frame.serializedBytes()
        buffer.reserveCapacity(minimumWritableBytes: prefixBytes + body.count)
        buffer.writeInteger(UInt32(body.count), endianness: .big)
        buffer.writeBytes(body)
    }

    /// Encodes `frame` as a complete wire frame.
    public static func encode(_ frame: Fma_V1_Frame) throws -> [UInt8] {
        var buffer = ByteBuffer()
        try encode(frame, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// Reads one frame from the front of `buffer`.
    ///
    /// Returns nil, consuming nothing, while the frame is incomplete. The length prefix is
    /// checked against `maxFrameBytes` as soon as its four bytes are there, before anything is
    /// allocated for the body.
    public static func decode(from buffer: inout ByteBuffer, maxFrameBytes: Int) throws(WireError) -> Fma_V1_Frame? {
        try decode(Fma_V1_Frame.self, from: &buffer, maxFrameBytes: maxFrameBytes)
    }

    /// Reads one length-prefixed message of type `M`, with the same checks as `decode(from:maxFrameBytes:)`.
    public static func decode<M: Message>(_ type: M.Type, from buffer: inout ByteBuffer, maxFrameBytes: Int) throws(WireError) -> M? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return nil
        }
        guard Int(length) <= maxFrameBytes else {
            throw .frameTooLarge(length: Int(length), limit: maxFrameBytes)
        }
        guard buffer.readableBytes >= prefixBytes + Int(length) else { return nil }
        let bodyStart = buffer.readerIndex + prefixBytes
        let frame: M
        do {
            frame = try buffer.withUnsafeReadableBytes { raw in
                try M(serializedBytes: Array(raw[prefixBytes..<(prefixBytes + Int(length))]))
            }
        } catch {
            throw .malformedFrame(reason: "\(error)")
        }
        buffer.moveReaderIndex(to: bodyStart + Int(length))
        return frame
    }

    /// Checks what is left when the stream ends: nothing, or an error naming the cut frame.
    public static func checkEndOfStream(_ buffer: ByteBuffer) throws(WireError) {
        guard buffer.readableBytes > 0 else { return }
        let expected = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self)
            .map { prefixBytes + Int($0) } ?? prefixBytes
        throw .truncatedFrame(received: buffer.readableBytes, expected: expected)
    }
}

/// A NIO decoder that turns bytes into frames, enforcing the maximum frame size.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = Fma_V1_Frame

    public let maxFrameBytes: Int

    public init(maxFrameBytes: Int = FrameCodec.defaultMaxFrameBytes) {
        self.maxFrameBytes = maxFrameBytes
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Fma_V1_Frame? {
        try FrameCodec.decode(from: &buffer, maxFrameBytes: maxFrameBytes)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Fma_V1_Frame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        try FrameCodec.checkEndOfStream(buffer)
        return nil
    }
}

/// A NIO encoder that writes frames with their length prefix.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Fma_V1_Frame

    public init() {}

    public func encode(data: Fma_V1_Frame, out: inout ByteBuffer) throws {
        try FrameCodec.encode(data, into: &out)
    }
}
