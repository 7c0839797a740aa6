public import FMAAPI
public import FMARPC
public import FMAWire
public import Foundation
public import Logging
import NIOConcurrencyHelpers

/// The controller's connections to its launchers: one RPC client per launcher Pod, and one
/// `WatchInstances` stream each, so every instance change reaches the controller at once (no
/// polling, no notifier sidecar). A broken stream resumes from the last revision; a revision the
/// launcher no longer holds (OUT_OF_RANGE) lists again. Connections close when the Pod goes.
public final class LauncherFleet: Sendable {
    /// What the controller knows of one launcher's instances.
    public struct Instances: Sendable {
        /// The list has arrived and the watch is current: `instances` is the launcher's truth.
        public var synced = false
        public var instances: [String: Fma_V1_Instance] = [:]
        public var revision: UInt64?
    }

    private struct Entry {
        var address: RPCAddress
        var client: RPCClient
        var generation: UInt64
        var state = Instances()
    }

    private enum Command {
        case watch(podName: String, generation: UInt64)
        case close(RPCClient)
    }

    private let token: BearerToken?
    private let logger: Logger
    private let onChange: @Sendable (String) -> Void
    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    private let generation = NIOLockedValueBox<UInt64>(0)
    /// When each instance was last bound or unbound (pod name → instance id → time): the order
    /// in which sleeping instances are reclaimed. Kept across reconnects.
    private let lastUsed = NIOLockedValueBox<[String: [String: Date]]>([:])
    private let commands: AsyncStream<Command>
    private let commandSink: AsyncStream<Command>.Continuation

    /// `onChange` hears the name of a launcher Pod whose instances changed (or whose watch
    /// synced or broke); it must be quick (enqueue).
    public init(token: BearerToken?, logger: Logger, onChange: @escaping @Sendable (String) -> Void) {
        self.token = token
        self.logger = logger
        self.onChange = onChange
        (commands, commandSink) = AsyncStream.makeStream(of: Command.self)
    }

    /// Starts watching the launcher at `address` for `podName` (or keeps the current watch when
    /// the address is the same); `nil` stops watching it and closes its connection.
    public func track(podName: String, address: RPCAddress?) {
        let command: [Command] = entries.withLockedValue { entries in
            let old = entries[podName]
            if let address, old?.address == address { return [] }
            var result: [Command] = old.map { [.close($0.client)] } ?? []
            guard let address else {
                entries[podName] = nil
                return result
            }
            let generation = self.generation.withLockedValue { $0 += 1; return $0 }
            let client = RPCClient(configuration: RPCClient.Configuration(address: address, token: token))
            entries[podName] = Entry(address: address, client: client, generation: generation)
            result.append(.watch(podName: podName, generation: generation))
            return result
        }
        if address == nil { lastUsed.withLockedValue { $0[podName] = nil } }
        for command in command { commandSink.yield(command) }
    }

    /// The launcher's instances as last reported; nil when it is not tracked.
    public func instances(of podName: String) -> Instances? {
        entries.withLockedValue { $0[podName]?.state }
    }

    /// A client for the launcher; nil when it is not tracked.
    public func client(for podName: String) -> LauncherClient? {
        entries.withLockedValue { $0[podName].map { LauncherClient($0.client, timeout: .seconds(30)) } }
    }

    /// Applies what the controller's own call returned (a create, delete, wake or sleep), so the
    /// next decision sees it even before the watch event arrives.
    public func record(_ instance: Fma_V1_Instance, in podName: String, deleted: Bool = false) {
        entries.withLockedValue { entries in
            guard var entry = entries[podName] else { return }
            if deleted {
                entry.state.instances[instance.id] = nil
            } else if let known = entry.state.instances[instance.id], known.revision > instance.revision {
                return
            } else {
                entry.state.instances[instance.id] = instance
            }
            entries[podName] = entry
        }
    }

    /// When the instance was last bound or unbound; the first sight of it when never.
    public func lastUsed(podName: String, instanceID: String) -> Date {
        lastUsed.withLockedValue { $0[podName, default: [:]][instanceID, default: Date()] }
    }

    public func touch(podName: String, instanceID: String, at date: Date = Date()) {
        lastUsed.withLockedValue { $0[podName, default: [:]][instanceID] = date }
    }

    /// Runs the watches until the task is cancelled, then closes every connection.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await command in commands {
                switch command {
                case .watch(let podName, let generation):
                    group.addTask { await self.watch(podName: podName, generation: generation) }
                case .close(let client):
                    group.addTask { await client.close() }
                }
            }
        }
    }

    /// Stops `run()`: no more watches start, and every connection closes.
    public func shutdown() async {
        commandSink.finish()
        let clients = entries.withLockedValue { entries in
            defer { entries.removeAll() }
            return entries.values.map(\.client)
        }
        for client in clients { await client.close() }
    }

    private func current(_ podName: String, _ generation: UInt64) -> RPCClient? {
        entries.withLockedValue { entries in
            guard let entry = entries[podName], entry.generation == generation else { return nil }
            return entry.client
        }
    }

    /// Changes the entry's state if it is still the one this watch serves.
    private func update(_ podName: String, _ generation: UInt64, _ change: (inout Instances) -> Void) {
        let changed = entries.withLockedValue { entries -> Bool in
            guard var entry = entries[podName], entry.generation == generation else { return false }
            change(&entry.state)
            entries[podName] = entry
            return true
        }
        if changed { onChange(podName) }
    }

    private func watch(podName: String, generation: UInt64) async {
        var logger = self.logger
        logger[metadataKey: "launcher"] = "\(podName)"
        var failures = 0
        while !Task.isCancelled, let rpc = current(podName, generation) {
            let client = LauncherClient(rpc, timeout: .seconds(30))
            do throws(RPCError) {
                var revision = instances(of: podName)?.revision
                if revision == nil {
                    let list = try await client.list()
                    update(podName, generation) { state in
                        state.instances = Dictionary(list.instances.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
                        state.revision = list.revision
                        state.synced = true
                    }
                    revision = list.revision
                    logger.debug("launcher instances listed", metadata: ["instances": "\(list.instances.count)", "revision": "\(list.revision)"])
                }
                let stream = try await client.watch(since: revision)
                failures = 0
                do {
                    for try await event in stream {
                        apply(event, podName: podName, generation: generation)
                    }
                } catch let error as RPCError {
                    throw error
                } catch {
                    throw RPCError(.unavailable, "\(error)")
                }
            } catch where error.code == .outOfRange {
                logger.info("launcher no longer holds the revision the watch resumes from; listing again")
                update(podName, generation) { $0.revision = nil }
                continue
            } catch {
                guard current(podName, generation) != nil, !Task.isCancelled else { return }
                failures += 1
                if failures == 1 || failures % 20 == 0 {
                    logger.info("launcher watch broke; retrying", metadata: ["error": "\(error.message)", "attempt": "\(failures)"])
                }
                update(podName, generation) { $0.synced = false; $0.revision = nil }
            }
            let delay = Self.backoff(failures)
            if delay > .zero {
                do { try await Task.sleep(for: delay) } catch { return }
            }
        }
    }

    private func apply(_ event: Fma_V1_InstanceEvent, podName: String, generation: UInt64) {
        update(podName, generation) { state in
            state.revision = event.revision
            switch event.type {
            case .deleted:
                state.instances[event.instance.id] = nil
            default:
                state.instances[event.instance.id] = event.instance
            }
        }
    }

    /// 0 after a clean end of stream, then 50 ms doubling to 2 s.
    static func backoff(_ failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        return .milliseconds(min(2000, 50 << min(failures - 1, 6)))
    }
}
