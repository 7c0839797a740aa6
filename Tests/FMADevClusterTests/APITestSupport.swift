import FMADevCluster
import FMAHTTPClient
import FMAJSON
import FMAKubeModel
import FMATestSupport
import Foundation
import Logging

/// An in-process fma-devcluster API server (no simulated nodes) reached over real HTTPS with
/// the project's HTTP client, trusting the generated CA and sending the token.
struct APITestCluster: Sendable {
    let cluster: DevCluster
    let endpoints: DevCluster.Endpoints
    let client: HTTPClient

    var store: ObjectStore { cluster.store }
    var url: String { endpoints.url }

    /// A response with its body read as JSON (nil when it is not JSON).
    struct Reply: Sendable {
        var status: Int
        var headers: HTTPClientHeaders
        var text: String
        var json: JSONObject?

        /// The `reason` of a Status body.
        var reason: String? { json?["reason"]?.string }
        var message: String { json?["message"]?.string ?? text }
    }

    /// Sends a request; `body` as JSON unless `raw` is given.
    func send(_ method: HTTPClientRequest.Method, _ path: String, json body: JSONValue? = nil, raw: String? = nil,
              contentType: String? = nil, headers extra: HTTPClientHeaders = [:], token: String?? = .none) async throws -> Reply {
        var headers = extra
        switch token {
        case .none: break
        case .some(nil): headers.replaceOrAdd("Authorization", "")
        case .some(let value?): headers.replaceOrAdd("Authorization", "Bearer \(value)")
        }
        var bytes: [UInt8]?
        if let body { bytes = body.serialized() }
        if let raw { bytes = Array(raw.utf8) }
        if bytes != nil { headers.replaceOrAdd("Content-Type", contentType ?? "application/json") }
        let request = HTTPClientRequest(method, url + path, headers: headers, body: bytes, timeout: .seconds(20))
        let response = try await client.send(request)
        let json = (try? JSONValue(parsing: response.body))?.object
        return Reply(status: response.status, headers: response.headers, text: response.bodyText, json: json)
    }

    /// The client configuration any test uses: the CA as PEM, the token, no proxy, HTTP/1.1 or 2.
    static func clientConfiguration(caPEM: String, token: String) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.tls = .init(trustRoots: .pem(Array(caPEM.utf8)))
        configuration.bearerToken = { token }
        configuration.proxy = .disabled
        return configuration
    }
}

/// Runs an in-process cluster (API server and bookmark timer only) for the duration of `body`.
func withAPICluster<T: Sendable>(
    configure: @Sendable (inout DevCluster.Configuration) -> Void = { _ in },
    _ body: @Sendable (APITestCluster) async throws -> T
) async throws -> T {
    try await withRunningDevCluster(configure: configure) { cluster, endpoints in
        let client = HTTPClient(configuration: APITestCluster.clientConfiguration(caPEM: cluster.credentials.caCertificatePEM,
                                                                                 token: cluster.credentials.token))
        do {
            let result = try await body(APITestCluster(cluster: cluster, endpoints: endpoints, client: client))
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}

/// A ConfigMap object.
func configMapJSON(_ name: String, namespace: String = "default", data: [String: String] = [:], labels: [String: String] = [:]) -> JSONValue {
    var metadata: JSONObject = ["name": .string(name), "namespace": .string(namespace)]
    if !labels.isEmpty { metadata["labels"] = JSONValue(stringMap: labels) }
    return ["apiVersion": "v1", "kind": "ConfigMap", "metadata": .object(metadata), "data": JSONValue(stringMap: data)]
}
