public import ServiceLifecycle

/// The controller as a `Service`: runs until graceful shutdown (SIGTERM), then closes its
/// connections. A controller that stops by itself (lost leadership, caches that never synced)
/// ends the process with an error, so its Deployment restarts it.
public struct ControllerService: Service {
    let controller: DualPodsController

    public init(_ controller: DualPodsController) {
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
