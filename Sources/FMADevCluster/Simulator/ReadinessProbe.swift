import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP GET of a readiness probe: success is a status from 200 to 399 within the timeout.
enum ReadinessProbe {
    static func get(host: String, port: Int, path: String, timeout: Duration) async -> Bool {
        do {
            return try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { try await request(host: host, port: port, path: path, timeout: timeout) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return false
                }
                let result = try await group.next() ?? false
                group.cancelAll()
                return result
            }
        } catch {
            return false
        }
    }

    private static func request(host: String, port: Int, path: String, timeout: Duration) async throws -> Bool {
        let milliseconds = max(1, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(milliseconds))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path.isEmpty ? "/" : path)
            head.headers.add(name: "Host", value: "\(host):\(port)")
            head.headers.add(name: "User-Agent", value: "kube-probe/fma-devcluster")
            head.headers.add(name: "Connection", value: "close")
            try await outbound.write(.head(head))
            try await outbound.write(.end(nil))
            for try await part in inbound {
                if case .head(let response) = part {
                    return (200..<400).contains(Int(response.status.code))
                }
            }
            return false
        }
    }
}
