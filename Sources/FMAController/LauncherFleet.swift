public import FMAAPI
public import FMARPC
public import FMAWire
public import Foundation
public import Logging
import NIOConcurrencyHelpers

/// The controller's connections to its launchers: one RPC client per launcher Pod, and one
/// `WatchInstances` stream each, so every instance change reaches the controller at once (no
/// polling, no notifier sidecar). A stream that ends cleanly resumes from the last revision; a
/// broken one lists again after a backoff, as does a revision the launcher no longer holds
/// (OUT_OF_RANGE, at once). Connections close when the Pod goes.
///
/// Events arrive by callback on the connection's event loop: no task waits on a stream, so
/// thousands of launchers cost a connection and a table each, not a suspended task (about
/// 10 KiB of task stack apiece). Tasks run only to list and to open a stream.
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
        /// Failed attempts to list or watch since the last event arrived.
        var failures = 0
    }

    private enum Command {
        /// List when the revision is unknown, then open the stream (after `delay`).
        case watch(podName: String, generation: UInt64, delay: Duration)
        case close(RPCClient)
    }

    private let token: BearerToken?
    private let logger: Logger
    private let onChange: @Sendable (String) -> Void
    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    private let generation = NIOLockedValueBox<UInt64>(0)
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
            result.append(.watch(podName: podName, generation: generation, delay: .zero))
            return result
        }
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
            guard entries[podName] != nil else { return }
            if deleted {
                entries[podName]?.state.instances[instance.id] = nil
            } else if let known = entries[podName]?.state.instances[instance.id], known.revision >= instance.revision {
                // The watch got there first (the same event, or a readiness change after it).
                return
            } else {
                entries[podName]?.state.instances[instance.id] = instance
            }
        }
    }

    /// When the instance was last put to use or out of use, as its launcher says: its creation,
    /// or its last wake (a bind) or sleep (an unbind), whichever came later. The launcher keeps
    /// it, so the order in which sleepers are reclaimed holds across controller restarts, and
    /// the launchers of one node compare times of one clock.
    public static func lastUsed(_ instance: Fma_V1_Instance) -> Date {
        Date(timeIntervalSince1970: Double(max(instance.createdUnixMs, instance.sleepChangedUnixMs)) / 1000)
    }

    /// Runs the watches until the task is cancelled, then closes every connection.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await command in commands {
                switch command {
                case .watch(let podName, let generation, let delay):
                    group.addTask { await self.openWatch(podName: podName, generation: generation, after: delay) }
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
    @discardableResult
    private func update(_ podName: String, _ generation: UInt64, notify: Bool = true, _ change: (inout Entry) -> Void) -> Bool {
        let changed = entries.withLockedValue { entries -> Bool in
            guard entries[podName]?.generation == generation else { return false }
            change(&entries[podName]!)
            return true
        }
        if changed && notify { onChange(podName) }
        return changed
    }

    /// Lists the instances when the revision to resume from is unknown, then opens the stream;
    /// the task ends there. The stream's end (`watchEnded`) asks for the next attempt.
    private func openWatch(podName: String, generation: UInt64, after delay: Duration) async {
        if delay > .zero {
            do { try await Task.sleep(for: delay) } catch { return }
        }
        guard !Task.isCancelled, let rpc = current(podName, generation) else { return }
        let client = LauncherClient(rpc, timeout: .seconds(30))
        do throws(RPCError) {
            var revision = instances(of: podName)?.revision
            if revision == nil {
                let list = try await client.list()
                update(podName, generation) { entry in
                    entry.state.instances = Dictionary(list.instances.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
                    entry.state.revision = list.revision
                    entry.state.synced = true
                }
                revision = list.revision
                logger.debug("launcher instances listed", metadata: [
                    "launcher": "\(podName)", "instances": "\(list.instances.count)", "revision": "\(list.revision)",
                ])
            }
            _ = try await client.watch(
                since: revision,
                onEvent: { [self] event in apply(event, podName: podName, generation: generation) },
                onEnd: { [self] error in watchEnded(podName: podName, generation: generation, error: error) })
        } catch {
            watchEnded(podName: podName, generation: generation, error: error)
        }
    }

    /// The stream ended (or could not open): resume from the last revision after a clean end,
    /// list again at once after OUT_OF_RANGE, and after a backoff when it failed. Nothing once
    /// the launcher is no longer tracked (its client was closed, ending the stream).
    private func watchEnded(podName: String, generation: UInt64, error: RPCError?) {
        var failures = 0
        let tracked = update(podName, generation, notify: error != nil) { entry in
            guard let error else { return }
            if error.code == .outOfRange {
                entry.state.revision = nil
                return
            }
            entry.failures += 1
            failures = entry.failures
            entry.state.synced = false
            entry.state.revision = nil
        }
        guard tracked else { return }
        if let error, error.code == .outOfRange {
            logger.info("launcher no longer holds the revision the watch resumes from; listing again", metadata: ["launcher": "\(podName)"])
        } else if let error, failures == 1 || failures % 20 == 0 {
            // A launcher that is still starting refuses the first tries: that is not news.
            let level: Logger.Level = failures == 1 ? .debug : .info
            logger.log(level: level, "launcher watch broke; retrying", metadata: ["launcher": "\(podName)", "error": "\(error.message)", "attempt": "\(failures)"])
        }
        commandSink.yield(.watch(podName: podName, generation: generation, delay: Self.backoff(failures)))
    }

    private func apply(_ event: Fma_V1_InstanceEvent, podName: String, generation: UInt64) {
        update(podName, generation) { entry in
            entry.failures = 0
            entry.state.revision = event.revision
            switch event.type {
            case .deleted:
                entry.state.instances[event.instance.id] = nil
            default:
                entry.state.instances[event.instance.id] = event.instance
            }
        }
    }

    /// 0 after a clean end of stream, then 50 ms doubling to 2 s.
    static func backoff(_ failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        return .milliseconds(min(2000, 50 << min(failures - 1, 6)))
    }
}
