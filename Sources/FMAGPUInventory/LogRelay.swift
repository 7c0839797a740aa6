public import FMARPC

/// The bookkeeping of a relayed log: how many bytes of the server's log are stored, and which
/// part of an offered chunk is new. Pure; `RequesterLog` writes the bytes.
///
/// A chunk is bytes `[start, start + count)` of the log. It is refused when `start` is negative
/// or beyond what is stored (a gap); otherwise only the bytes past `stored` are new, so
/// overlapping and repeated chunks are accepted and the stored log stays the true prefix. The
/// messages are FMA's (its requester's `/v1/set-log`).
public struct LogRelay: Sendable, Equatable {
    public private(set) var stored: Int64 = 0

    public init() {}

    /// The new part of the chunk, as offsets into it (empty when nothing is new).
    public func newBytes(start: Int64, count: Int) throws(RPCError) -> Range<Int> {
        guard start >= 0 else {
            throw RPCError.invalidArgument(field: "start", "Starting position \(start) is unacceptable because it is negative")
        }
        guard start <= stored else {
            throw RPCError.invalidArgument(field: "start", "Starting position \(start) is beyond the current contentLength=\(stored)")
        }
        let skip = Int(stored - start)
        return skip >= count ? count..<count : skip..<count
    }

    /// Records `count` new bytes as stored.
    public mutating func advance(by count: Int) {
        stored += Int64(count)
    }

    /// What an accepted chunk is answered with.
    public func acceptedMessage(start: Int64, count: Int, added: Int) -> String {
        if added == 0 {
            return "Accepted startPos=\(start), chunkLength=\(count), but that has nothing new; still contentLength=\(stored)"
        }
        return "Accepted startPos=\(start), chunkLength=\(count); addedContentLength=\(added), new contentLength=\(stored)"
    }
}
