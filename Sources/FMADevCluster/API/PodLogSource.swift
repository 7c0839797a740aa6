import NIOConcurrencyHelpers

/// Where the API server finds a container's log file for `pods/NAME/log`: set by whatever runs
/// the containers (the node simulator), after the API exists. Until it is set, logs are
/// unavailable.
public final class PodLogSource: Sendable {
    public typealias Locator = @Sendable (_ namespace: String, _ pod: String, _ container: String) -> String?

    private let locator = NIOLockedValueBox<Locator?>(nil)

    public init() {}

    /// Sets the function that answers the log file of a container (nil: it has none yet).
    public func set(_ locator: @escaping Locator) {
        self.locator.withLockedValue { $0 = locator }
    }

    /// Where the log of the container's previous run is kept once it restarted (`--previous`):
    /// beside the current one, `NAME.log` → `NAME.previous.log`.
    public static func previousPath(of current: String) -> String {
        (current.hasSuffix(".log") ? String(current.dropLast(4)) : current) + ".previous.log"
    }

    func path(namespace: String, pod: String, container: String) -> String? {
        locator.withLockedValue { $0 }?(namespace, pod, container)
    }
}
