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
    router.add(HealthService(component: "test", services: router.serviceNames, maxFrameBytes: configuration.maxFrameBytes))
    let server = RPCServer(configuration: configuration, router: router, logger: .silent)
    return try await withRunningServices([server]) { _ in
        try await body(try await server.boundAddresses())
    }
}

/// Runs `services` under one `ServiceGroup` for the duration of `body` (which gets the group, to
/// trigger a shutdown early), then shuts them down gracefully and waits for them to finish —
/// also when `body` throws.
public func withRunningServices<T: Sendable>(
    _ services: [any Service],
    _ body: @Sendable (ServiceGroup) async throws -> T
) async throws -> T {
    let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: .silent))
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        let result: T
        do {
            result = try await body(group)
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
