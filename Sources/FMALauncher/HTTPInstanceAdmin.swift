public import FMARPC
public import FMAHTTPClient
import FMAWire
import Foundation

/// The instance admin API over the project's HTTP client (libcurl).
public struct HTTPInstanceAdmin: InstanceAdmin {
    private let client: HTTPClient
    private let sleepTimeout: Duration
    private let timeout: Duration

    public init(client: HTTPClient = HTTPClient(), sleepTimeout: Duration = .seconds(600), timeout: Duration = .seconds(30)) {
        self.client = client
        self.sleepTimeout = sleepTimeout
        self.timeout = timeout
    }

    public func sleep(host: String, port: UInt32, level: UInt32, instance: String) async throws(RPCError) {
        _ = try await call(.post, host: host, port: port, path: "/sleep?level=\(level)", instance: instance, timeout: sleepTimeout)
    }

    public func wake(host: String, port: UInt32, instance: String) async throws(RPCError) {
        _ = try await call(.post, host: host, port: port, path: "/wake_up", instance: instance, timeout: sleepTimeout)
    }

    public func isSleeping(host: String, port: UInt32, instance: String) async throws(RPCError) -> Bool {
        let response = try await call(.get, host: host, port: port, path: "/is_sleeping", instance: instance, timeout: timeout)
        struct Answer: Decodable { var is_sleeping: Bool }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)) else {
            throw RPCError(.internal, "instance '\(instance)' answered GET /is_sleeping with '\(response.bodyText.prefix(200))', not {\"is_sleeping\": BOOL}")
        }
        return answer.is_sleeping
    }

    public func isHealthy(host: String, port: UInt32, timeout: Duration) async -> Bool {
        let response = try? await client.send(HTTPClientRequest(.get, Self.url(host: host, port: port, path: "/health"), timeout: timeout))
        return response?.isSuccess ?? false
    }

    static func url(host: String, port: UInt32, path: String) -> String {
        "http://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path)"
    }

    private func call(_ method: HTTPClientRequest.Method, host: String, port: UInt32, path: String, instance: String, timeout: Duration) async throws(RPCError) -> HTTPClientResponse {
        let url = Self.url(host: host, port: port, path: path)
        let response: HTTPClientResponse
        do {
            response = try await client.send(HTTPClientRequest(method, url, timeout: timeout))
        } catch {
            let code: Fma_V1_StatusCode = error.code == .timeout ? .deadlineExceeded : .unavailable
            throw RPCError(code, "instance '\(instance)': \(method) \(url) failed: \(error.message)", cause: error)
        }
        guard response.isSuccess else {
            throw RPCError(.failedPrecondition, "instance '\(instance)' answered \(method) \(path) with HTTP \(response.status): \(response.bodyText.prefix(500))")
        }
        return response
    }
}
