public import FMARPC

/// An instance's own admin API (vLLM's `/sleep`, `/wake_up`, `/is_sleeping`, `/health`).
public protocol InstanceAdmin: Sendable {
    /// `POST /sleep?level=N`. Errors name the instance and what the server answered.
    func sleep(host: String, port: UInt32, level: UInt32, instance: String) async throws(RPCError)
    /// `POST /wake_up`.
    func wake(host: String, port: UInt32, instance: String) async throws(RPCError)
    /// `GET /is_sleeping` → `{"is_sleeping": bool}`.
    func isSleeping(host: String, port: UInt32, instance: String) async throws(RPCError) -> Bool
    /// `GET /health` answers 2xx within `timeout`.
    func isHealthy(host: String, port: UInt32, timeout: Duration) async -> Bool
}
