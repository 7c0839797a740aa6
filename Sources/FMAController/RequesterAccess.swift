import FMAGPUInventory
import FMAHTTPClient
import FMAJSON
import FMAKubeModel
import FMARPC
import Foundation
import NIOConcurrencyHelpers

/// Talks to a requester's stub: fma's `Requester` RPC when the requester's container has a port
/// named `fma-rpc`, else FMA's HTTP SPI on its admin port (so FMA's own requester image works).
final class RequesterAccess: Sendable {
    private let http: HTTPClient
    private let token: BearerToken?
    private let clients = NIOLockedValueBox<[String: (RPCAddress, RPCClient)]>([:])

    init(http: HTTPClient, token: BearerToken?) {
        self.http = http
        self.token = token
    }

    /// The requester's GPU UUIDs, in the order it reports them.
    func accelerators(of pod: Pod) async throws(ControllerError) -> [String] {
        try await ask(pod, "GetAccelerators", { (client: RequesterClient) async throws(RPCError) in try await client.accelerators() },
                      path: RequesterHTTP.acceleratorsPath, what: "a JSON array of GPU UUIDs") { json in
            json.array.map { $0.compactMap(\.string) }
        }
    }

    /// MiB in use per GPU UUID, as the requester measures it: `GetAcceleratorMemory` over RPC,
    /// else FMA's `GET /v1/dual-pods/accelerator-memory-usage`.
    func acceleratorMemory(of pod: Pod) async throws(ControllerError) -> [String: UInt64] {
        try await ask(pod, "GetAcceleratorMemory", { (client: RequesterClient) async throws(RPCError) in try await client.acceleratorMemory() },
                      path: RequesterHTTP.acceleratorMemoryPath, what: "a JSON object of GPU UUID to MiB") { json in
            json.object.map { object in
                var used: [String: UInt64] = [:]
                for (uuid, value) in object {
                    if let mib = value.int, mib >= 0 { used[uuid] = UInt64(mib) }
                }
                return used
            }
        }
    }

    /// One question to the stub: `call` over fma's RPC when it has the port, else a GET of FMA's
    /// SPI `path` whose JSON answer `parse` reads (nil: not `what` it should be).
    private func ask<T>(_ pod: Pod, _ method: String, _ call: (RequesterClient) async throws(RPCError) -> T,
                        path: String, what: String, parse: (JSONValue) -> T?) async throws(ControllerError) -> T {
        guard let ip = pod.status.podIP, !ip.isEmpty else { throw ControllerError("no IP assigned yet") }
        if let client = await rpc(for: pod) {
            do {
                return try await call(client)
            } catch {
                throw ControllerError("\(method) on \(client.rpc.configuration.address) fails: \(error.message)")
            }
        }
        let url = Endpoints.httpBase(ip: ip, port: Endpoints.adminPort(of: pod)) + path
        let response: HTTPClientResponse
        do {
            response = try await http.send(HTTPClientRequest(.get, url, headers: ["Accept": "application/json"], timeout: .seconds(10)))
        } catch {
            throw ControllerError("GET \"\(url)\" fails: \(error.message)")
        }
        guard response.isSuccess else {
            throw ControllerError("GET \"\(url)\" fails: status \(response.status): \(response.bodyText.prefix(200))")
        }
        guard let json = try? JSONValue(parsing: response.body), let value = parse(json) else {
            throw ControllerError("GET \"\(url)\" fails: the answer is not \(what)")
        }
        return value
    }

    /// Relays readiness: `SetReady` over RPC, else `POST /v1/become-ready|unready`.
    func setReady(_ ready: Bool, on pod: Pod) async throws(ControllerError) {
        guard let ip = pod.status.podIP, !ip.isEmpty else { throw ControllerError("no IP assigned yet") }
        if let client = await rpc(for: pod) {
            do {
                try await client.setReady(ready)
                return
            } catch {
                throw ControllerError("SetReady on \(client.rpc.configuration.address) fails: \(error.message)")
            }
        }
        let path = ready ? RequesterHTTP.becomeReadyPath : RequesterHTTP.becomeUnreadyPath
        let url = Endpoints.httpBase(ip: ip, port: Endpoints.adminPort(of: pod)) + path
        do {
            let response = try await http.send(HTTPClientRequest(.post, url, timeout: .seconds(10)))
            guard response.isSuccess else { throw ControllerError("POST \"\(url)\" fails: status \(response.status)") }
        } catch let error as ControllerError {
            throw error
        } catch {
            throw ControllerError("POST \"\(url)\" fails: \(error)")
        }
    }

    /// Closes the connection kept for a requester (gone, or served); a later call reconnects.
    func forget(uid: String) async {
        let entry = clients.withLockedValue { $0.removeValue(forKey: uid) }
        await entry?.1.close()
    }

    /// Closes every connection.
    func shutdown() async {
        let all = clients.withLockedValue { clients in
            defer { clients.removeAll() }
            return clients.values.map(\.1)
        }
        for client in all { await client.close() }
    }

    private func rpc(for pod: Pod) async -> RequesterClient? {
        guard let address = Endpoints.rpcAddress(of: pod) else { return nil }
        let uid = pod.metadata.uid
        let (client, stale): (RPCClient, RPCClient?) = clients.withLockedValue { clients in
            if let (known, client) = clients[uid], known == address { return (client, nil) }
            let client = RPCClient(configuration: RPCClient.Configuration(address: address, token: token))
            let old = clients.updateValue((address, client), forKey: uid)?.1
            return (client, old)
        }
        await stale?.close()
        return RequesterClient(client)
    }
}
