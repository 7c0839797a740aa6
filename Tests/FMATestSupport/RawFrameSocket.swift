import FMARPC
import FMAWire
import Foundation
import NIOCore

/// A blocking socket that speaks raw frames (or raw bytes), for tests that must send what a
/// well-behaved client never would. Every read is bounded by a timeout.
public final class RawFrameSocket {
    public let fd: Int32
    private var buffer = ByteBuffer()

    public init(_ address: RPCAddress) throws {
        switch address {
        case .unix(let path):
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                let bytes = Array(path.utf8)
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard result == 0 else { throw TestSupportError("connect \(address): \(String(cString: strerror(errno)))") }
        case .tcp(let host, let port):
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &addr.sin_addr)
            let result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard result == 0 else { throw TestSupportError("connect \(address): \(String(cString: strerror(errno)))") }
        }
    }

    deinit { close(fd) }

    /// Shrinks the kernel's receive buffer, so that a reader that stops reading is felt sooner.
    public func setReceiveBuffer(bytes: Int32) {
        var value = bytes
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    public func send(bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw TestSupportError("send: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    public func send(_ frame: Fma_V1_Frame) throws {
        try send(bytes: try FrameCodec.encode(frame))
    }

    /// The next frame, or nil when the peer closed the connection; throws on timeout.
    ///
    /// Never blocks a thread: tests share the concurrency pool with in-process servers.
    public func receive(timeout: Duration = .seconds(10)) async throws -> Fma_V1_Frame? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let frame = try FrameCodec.decode(from: &buffer, maxFrameBytes: 64 << 20) { return frame }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw TestSupportError("no frame within \(timeout)") }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) == 0 {
                try await Task.sleep(for: .milliseconds(2))
                continue
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &chunk, chunk.count, 0)
            if count == 0 { return nil }
            guard count > 0 else { throw TestSupportError("recv: \(String(cString: strerror(errno)))") }
            buffer.writeBytes(chunk[0..<count])
        }
    }

    /// True when no frame arrives within `window` (the peer stays silent).
    public func staysSilent(for window: Duration) async throws -> Bool {
        do {
            _ = try await receive(timeout: window)
            return false
        } catch is TestSupportError {
            return true
        }
    }

    /// A request frame for `method` with an encoded `payload`.
    public static func request(_ id: UInt64, _ method: String, payload: [UInt8], credit: UInt32 = 0, metadata: [String: String] = [:]) -> Fma_V1_Frame {
        var frame = Fma_V1_Frame()
        frame.callID = id
        frame.request.method = method
        frame.request.payload = Data(payload)
        frame.request.initialCredit = credit
        frame.request.metadata = metadata
        return frame
    }
}
