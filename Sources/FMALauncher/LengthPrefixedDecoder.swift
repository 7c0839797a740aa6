import FMAWire
import NIOCore
import SwiftProtobuf

/// A NIO decoder for the zygote channel: the wire protocol's framing around messages of type `M`.
struct LengthPrefixedDecoder<M: Message>: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = M
    let maxBytes: Int

    mutating func decode(buffer: inout ByteBuffer) throws -> M? {
        try FrameCodec.decode(M.self, from: &buffer, maxFrameBytes: maxBytes)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> M? {
        try decode(buffer: &buffer)
    }
}
