public import FMARPC
import Foundation
import Metrics
import Synchronization

/// The server's log as the controller relays it to the requester, written to `sink` (standard
/// output, so that `kubectl logs` on the requester shows it) — each byte once, in order.
///
/// Exported as `fma_requester_log_bytes_total` and `fma_requester_log_chunks_total{result}`
/// (result: appended, duplicate, rejected).
public final class RequesterLog: Sendable {
    /// An accepted chunk: the log's stored length now, the bytes it added, FMA's message.
    public struct Appended: Sendable, Equatable {
        public var stored: Int64
        public var added: Int
        public var message: String
    }

    /// Writes to the process's standard output.
    public static let standardOutput: @Sendable (ArraySlice<UInt8>) throws -> Void = { bytes in
        try FileHandle.standardOutput.write(contentsOf: Data(bytes))
    }

    private let relay = Mutex(LogRelay())
    private let sink: @Sendable (ArraySlice<UInt8>) throws -> Void
    private let bytes = Counter(label: "fma_requester_log_bytes_total")
    private let appendedChunks = Counter(label: "fma_requester_log_chunks_total", dimensions: [("result", "appended")])
    private let duplicateChunks = Counter(label: "fma_requester_log_chunks_total", dimensions: [("result", "duplicate")])
    private let rejectedChunks = Counter(label: "fma_requester_log_chunks_total", dimensions: [("result", "rejected")])

    public init(sink: @escaping @Sendable (ArraySlice<UInt8>) throws -> Void = RequesterLog.standardOutput) {
        self.sink = sink
    }

    /// Bytes of the log stored so far.
    public var stored: Int64 { relay.withLock { $0.stored } }

    /// Accepts bytes `[start, start + chunk.count)` of the log. INVALID_ARGUMENT (FMA's message)
    /// when `start` is negative or past what is stored; INTERNAL when the sink fails, in which
    /// case nothing is counted as stored.
    public func append(start: Int64, _ chunk: [UInt8]) throws(RPCError) -> Appended {
        do {
            let appended = try relay.withLock { relay throws(RPCError) -> Appended in
                let new = try relay.newBytes(start: start, count: chunk.count)
                if !new.isEmpty {
                    do {
                        try sink(chunk[new])
                    } catch {
                        throw RPCError(.internal, "Failed to write log chunk: \(error)", cause: error)
                    }
                    relay.advance(by: new.count)
                }
                return Appended(stored: relay.stored, added: new.count,
                                message: relay.acceptedMessage(start: start, count: chunk.count, added: new.count))
            }
            (appended.added > 0 ? appendedChunks : duplicateChunks).increment()
            bytes.increment(by: Int64(appended.added))
            return appended
        } catch {
            rejectedChunks.increment()
            throw error
        }
    }
}
