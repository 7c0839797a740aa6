import FMADevCluster
import Foundation
import Logging

/// Runs an in-process fma-devcluster — real HTTPS with its own CA and token, state files in a
/// temporary directory — for the duration of `body`, then shuts it down. `configure` adjusts
/// the configuration first (history size, kinds, …).
public func withRunningDevCluster<T: Sendable>(
    configure: @Sendable (inout DevCluster.Configuration) -> Void = { _ in },
    _ body: @Sendable (DevCluster, DevCluster.Endpoints) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { directory in
        var configuration = DevCluster.Configuration(stateDirectory: directory + "/cluster")
        configure(&configuration)
        let cluster = try DevCluster(configuration: configuration, logger: testLogger("fma.devcluster"))
        let endpoints = try await cluster.start()
        return try await withRunningServices(cluster.services) { _ in
            try await body(cluster, endpoints)
        }
    }
}

/// A logger that is silent unless FMA_TEST_LOG names a level (e.g. `FMA_TEST_LOG=debug`).
public func testLogger(_ label: String) -> Logger {
    let level = ProcessInfo.processInfo.environment["FMA_TEST_LOG"].flatMap(Logger.Level.init(rawValue:))
    var logger = Logger(label: label, factory: { label in
        level == nil ? SwiftLogNoOpLogHandler() as any LogHandler : StreamLogHandler.standardError(label: label)
    })
    logger.logLevel = level ?? .critical
    return logger
}
