import FMAJSON
public import FMAKubeModel
import NIOConcurrencyHelpers
public import Foundation
public import Logging

/// Records core/v1 Events about objects, as `kubectl describe` shows them: "why did the
/// controller do that to my Pod?".
///
/// Events are best effort: a failure to record one is logged, never thrown, so a controller
/// does not fail a reconcile over it. A repeat of an event this recorder made (same object,
/// type, reason and message) bumps that Event's `count` and `lastTimestamp` instead of creating
/// another, as client-go's recorder does; copies of a recorder share what they remember.
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
    private let recent = RecentEvents()

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
    /// `reason` is a short CamelCase word; `message` a sentence for people; `time` when it
    /// happened (now by default).
    @discardableResult
    public func record(_ object: some KubeObject, type: EventType = .normal, reason: String, message: String,
                       at time: Date? = nil) async -> Event? {
        let date = time ?? now()
        let key = RecentEvents.Key(uid: object.metadata.uid, object: object.key, type: type.rawValue, reason: reason, message: message)
        if let (name, namespace, count) = recent.get(key) {
            let patch: JSONValue = ["count": .int(count + 1), "lastTimestamp": .string(KubeTime.string(date))]
            do {
                let bumped = try await client.patch(Event.self, name: name, namespace: namespace, .merge(patch))
                recent.put(key, name: name, namespace: namespace, count: bumped.count)
                return bumped
            } catch where error.isNotFound {
                // Expired or deleted: record it afresh.
            } catch {
                logger.warning("could not update an event", metadata: ["object": "\(object.key)", "reason": "\(reason)", "error": "\(error)"])
                return nil
            }
        }
        let event = Self.event(about: object, type: type, reason: reason, message: message,
                               component: component, instance: instance, at: date)
        do {
            let created = try await client.create(event)
            recent.put(key, name: created.metadata.name, namespace: created.metadata.namespace, count: created.count)
            return created
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
        return Event(name: "\(object.metadata.name).\(String(nanoseconds, radix: 16))", namespace: namespace,
                     about: ObjectReference(object), type: type.rawValue, reason: reason, message: message,
                     component: component, instance: instance, host: instance, timestamp: KubeTime.string(date))
    }
}

/// The events a recorder made lately, so a repeat updates its Event: at most `capacity`,
/// the least recently recorded forgotten first. Each use is O(1) (amortized): uses are queued
/// in order and an eviction skips queued uses that a later one superseded.
final class RecentEvents: Sendable {
    struct Key: Hashable, Sendable {
        var uid: String
        var object: String
        var type: String
        var reason: String
        var message: String
    }

    private struct Entry {
        var name: String
        var namespace: String
        var count: Int64
        var used: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var clock: UInt64 = 0
        /// Every use, oldest first, from `head` on; a use is stale when its entry was used later.
        var uses: [(key: Key, at: UInt64)] = []
        var head = 0

        mutating func touch(_ key: Key) -> UInt64 {
            clock += 1
            uses.append((key, clock))
            return clock
        }

        /// Forgets the least recently used entry.
        mutating func evictOldest() {
            while head < uses.count {
                let use = uses[head]
                head += 1
                if entries[use.key]?.used == use.at {
                    entries[use.key] = nil
                    break
                }
            }
            compact()
        }

        /// Drops the consumed and stale uses once they are most of the queue.
        mutating func compact() {
            guard uses.count > 64, head > uses.count / 2 || uses.count > 4 * max(1, entries.count) else { return }
            uses = uses[head...].filter { entries[$0.key]?.used == $0.at }
            head = 0
        }
    }

    private let state = NIOLockedValueBox(State())
    let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = max(1, capacity)
    }

    var count: Int { state.withLockedValue { $0.entries.count } }

    func get(_ key: Key) -> (name: String, namespace: String, count: Int64)? {
        state.withLockedValue { state in
            guard let entry = state.entries[key] else { return nil }
            let used = state.touch(key)
            state.entries[key]?.used = used
            state.compact()
            return (entry.name, entry.namespace, entry.count)
        }
    }

    func put(_ key: Key, name: String, namespace: String, count: Int64) {
        state.withLockedValue { state in
            let used = state.touch(key)
            state.entries[key] = Entry(name: name, namespace: namespace, count: max(1, count), used: used)
            if state.entries.count > capacity {
                state.evictOldest()
            } else {
                state.compact()
            }
        }
    }
}
