public import ServiceLifecycle

/// What `ControllerService` runs: the dual-pods controller or the launcher populator.
public protocol ControllerLoop: Sendable {
    /// Runs until the task is cancelled; throws when it cannot go on.
    func run() async throws
    /// Stops queues and closes connections after `run()` ended.
    func shutdown() async
}

extension DualPodsController: ControllerLoop {}
extension LauncherPopulator: ControllerLoop {}

/// A controller as a `Service`: runs until graceful shutdown (SIGTERM), then closes its
/// connections. A controller that stops by itself (lost leadership, caches that never synced)
/// ends the process with an error, so its Deployment restarts it.
public struct ControllerService: Service {
    let controller: any ControllerLoop

    public init(_ controller: any ControllerLoop) {
        self.controller = controller
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await controller.run()
            }
        } catch is CancellationError {
            // Shut down on request: not a failure.
        }
        await controller.shutdown()
    }
}
