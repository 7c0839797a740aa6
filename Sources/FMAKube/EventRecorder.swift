import FMAJSON
public import FMAKubeModel
public import Foundation
public import Logging

/// Records core/v1 Events about objects, as `kubectl describe` shows them: "why did the
/// controller do that to my Pod?".
///
/// Events are best effort: a failure to record one is logged, never thrown, so a controller
/// does not fail a reconcile over it. Each call creates a new Event (no aggregation of repeats).
public struct EventRecorder: Sendable {
    /// `Normal` or `Warning`.
    public enum EventType: String, Sendable, Hashable {
        case normal = "Normal"
        case warning = "Warning"
    }

    public let client: KubeClient
    /// The component reporting (`source.component`, `reportingComponent`): `fma-controller`.
    public let component: String
    /// This instance of the component (`reportingInstance`, `source.host`): a Pod or host name.
    public let instance: String
    private let now: @Sendable () -> Date
    private let logger: Logger

    public init(client: KubeClient, component: String, instance: String = ProcessInfo.processInfo.hostName,
                logger: Logger = Logger(label: "fma.kube.events")) {
        self.init(client: client, component: component, instance: instance, now: { Date() }, logger: logger)
    }

    init(client: KubeClient, component: String, instance: String, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.client = client
        self.component = component
        self.instance = instance
        self.now = now
        self.logger = logger
    }

    /// Creates an Event about `object` and returns it, or `nil` (logged) if that failed.
    /// `reason` is a short CamelCase word; `message` a sentence for people.
    @discardableResult
    public func record(_ object: some KubeObject, type: EventType = .normal, reason: String, message: String) async -> Event? {
        let event = Self.event(about: object, type: type, reason: reason, message: message,
                               component: component, instance: instance, at: now())
        do {
            return try await client.create(event)
        } catch {
            logger.warning("could not record an event", metadata: [
                "object": "\(object.key)", "reason": "\(reason)", "error": "\(error)",
            ])
            return nil
        }
    }

    /// The Event `record` creates (pure, for tests): in the object's namespace (`default` for
    /// cluster-scoped objects), named `<object>.<time in hex nanoseconds>` as client-go names them.
    public static func event(
        about object: some KubeObject, type: EventType, reason: String, message: String,
        component: String, instance: String, at date: Date
    ) -> Event {
        let namespace = object.metadata.namespace.isEmpty ? "default" : object.metadata.namespace
        let nanoseconds = UInt64(max(0, date.timeIntervalSince1970) * 1e9)
        var event = Event(name: "\(object.metadata.name).\(String(nanoseconds, radix: 16))", namespace: namespace)
        event.involvedObject = ObjectReference(object)
        event.type = type.rawValue
        event.reason = reason
        event.message = message
        event.count = 1
        let timestamp = Self.timestamp(date)
        event.firstTimestamp = timestamp
        event.lastTimestamp = timestamp
        event.sourceComponent = component
        event.sourceHost = instance
        event.reportingComponent = component
        event.reportingInstance = instance
        return event
    }

    /// RFC 3339 in UTC with seconds, as Kubernetes writes `metav1.Time`.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
