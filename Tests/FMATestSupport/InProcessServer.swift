import FMAAPI
import FMARPC
import Logging
import ServiceLifecycle

/// Runs an `RPCServer` in this process for the duration of `body`, then shuts it down
/// gracefully (drain included) and waits for it to finish.
public func withInProcessServer<T: Sendable>(
    listen: [RPCAddress],
    token: BearerToken? = nil,
    configure: (inout RPCServer.Configuration) -> Void = { _ in },
    services: [any RPCService] = [DemoService()],
    _ body: @Sendable ([RPCAddress]) async throws -> T
) async throws -> T {
    var configuration = RPCServer.Configuration(listen: listen, token: token)
    configure(&configuration)
    var router = RPCRouter(services: services)
    router.add(HealthService(component: "test", services: router.serviceNames))
    let server = RPCServer(configuration: configuration, router: router, logger: .silent)
    let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: .silent))
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        let addresses = try await server.boundAddresses()
        let result: T
        do {
            result = try await body(addresses)
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}
