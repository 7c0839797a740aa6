import CFMAProcess
import FMAAPI
import FMARPC
import FMAWire
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The preinitialized Python parent that instances are forked from.
///
/// The launcher starts it with one end of a socket pair (fd 3), waits for `ZygoteReady`, then
/// sends `ZygoteFork` commands and receives `ZygoteForked` / `ZygoteExited` events. When the
/// zygote dies (the reaper reports it), forks in flight fail with UNAVAILABLE and a new zygote
/// starts; running instances are unaffected (they are in their own sessions, and are
/// reparented to the launcher, a child subreaper).
final class Zygote: Sendable {
    private enum State {
        case stopped
        case starting([CheckedContinuation<Void, any Error>])
        case ready(channel: any Channel, pid: Int32)
        case shutDown
    }

    private struct Shared {
        var state: State = .stopped
        var pid: Int32 = 0
        var pendingForks: [String: CheckedContinuation<Int32, any Error>] = [:]
    }

    private let configuration: LauncherConfiguration
    private let reaper: ProcessReaper
    private let logger: Logger
    private let onExit: @Sendable (Int32, ExitRecord) -> Void
    private let shared = NIOLockedValueBox(Shared())

    /// `onExit(pid, exit)` reports each instance the zygote reaped.
    init(configuration: LauncherConfiguration, reaper: ProcessReaper, logger: Logger,
         onExit: @escaping @Sendable (Int32, ExitRecord) -> Void) {
        self.configuration = configuration
        self.reaper = reaper
        self.logger = logger
        self.onExit = onExit
    }

    /// The zygote's pid, 0 while none runs.
    var pid: Int32 { shared.withLockedValue { $0.pid } }

    /// Starts the zygote (if it is not running) and waits until it has preloaded.
    func ensureReady() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let launch: Bool = shared.withLockedValue { shared in
                switch shared.state {
                case .ready:
                    continuation.resume()
                    return false
                case .shutDown:
                    continuation.resume(throwing: RPCError(.unavailable, "the launcher is shutting down"))
                    return false
                case .starting(var waiters):
                    waiters.append(continuation)
                    shared.state = .starting(waiters)
                    return false
                case .stopped:
                    shared.state = .starting([continuation])
                    return true
                }
            }
            if launch { spawn() }
        }
    }

    /// Forks an instance; returns its pid.
    func fork(_ command: Fma_V1_ZygoteFork) async throws -> Int32 {
        try await ensureReady()
        let id = command.instanceID
        return try await withCheckedThrowingContinuation { continuation in
            let channel: (any Channel)? = shared.withLockedValue { shared in
                guard case .ready(let channel, _) = shared.state else { return nil }
                shared.pendingForks[id] = continuation
                return channel
            }
            guard let channel else {
                continuation.resume(throwing: RPCError(.unavailable, "the zygote is restarting; try again"))
                return
            }
            var message = Fma_V1_ZygoteCommand()
            message.fork = command
            do {
                var buffer = ByteBuffer()
                try FrameCodec.encode(message, into: &buffer)
                channel.writeAndFlush(buffer, promise: nil)
            } catch {
                if let pending = shared.withLockedValue({ $0.pendingForks.removeValue(forKey: id) }) {
                    pending.resume(throwing: RPCError(.internal, "cannot encode the fork command: \(error)"))
                }
            }
        }
    }

    /// The reaper saw `pid` exit: when it is the zygote, start another. Returns true if it was.
    func reaped(_ pid: Int32, status: Int32) -> Bool {
        struct Death {
            var forks: [CheckedContinuation<Int32, any Error>] = []
            var starting: [CheckedContinuation<Void, any Error>] = []
            var channel: (any Channel)?
            var wasReady = false
        }
        let death: Death? = shared.withLockedValue { shared in
            guard pid == shared.pid, pid != 0 else { return nil }
            shared.pid = 0
            var death = Death(forks: Array(shared.pendingForks.values))
            shared.pendingForks = [:]
            switch shared.state {
            case .ready(let channel, _):
                death.channel = channel
                death.wasReady = true
                shared.state = .stopped
            case .starting(let waiters):
                death.starting = waiters
                shared.state = .stopped
            case .stopped, .shutDown:
                break
            }
            return death
        }
        guard let death else { return false }
        death.channel?.close(promise: nil)
        let exit = ExitRecord(waitStatus: status)
        for fork in death.forks { fork.resume(throwing: RPCError(.unavailable, "the zygote died (\(exit.summary)) during the fork")) }
        for waiter in death.starting {
            waiter.resume(throwing: RPCError(.unavailable, "the zygote \(exit.summary) while preloading; its messages are in the launcher's log"))
        }
        // Restart at once only a zygote that had been serving: one that dies while preloading
        // would die again; the next create tries again and reports why.
        if death.wasReady {
            logger.warning("the zygote died; starting a new one", metadata: ["zygote_pid": "\(pid)", "exit": "\(exit.summary)"])
            Task { try? await ensureReady() }
        } else {
            logger.error("the zygote exited before it was ready", metadata: ["zygote_pid": "\(pid)", "exit": "\(exit.summary)"])
        }
        return true
    }

    /// Asks the zygote to exit (instances keep running).
    func shutdown() {
        let channel: (any Channel)? = shared.withLockedValue { shared in
            defer { shared.state = .shutDown }
            if case .ready(let channel, _) = shared.state { return channel }
            return nil
        }
        channel?.close(promise: nil)
    }

    // MARK: - Starting the process

    private func spawn() {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            return startFailed(RPCError(.internal, "socketpair failed: \(String(cString: strerror(errno)))"))
        }
        let argv = [configuration.python, "-m", "fma_zygote", "--control-fd", "3"]
            + configuration.preload.flatMap { ["--preload", $0] } + ["--entrypoint", configuration.entrypoint]
            + (configuration.zygoteSpare ? [] : ["--no-spare"])
        var environment = ProcessInfo.processInfo.environment
        let pythonPath = (configuration.pythonPath + [environment["PYTHONPATH"]].compactMap { $0 }).joined(separator: ":")
        if !pythonPath.isEmpty { environment["PYTHONPATH"] = pythonPath }
        let executable = SpawnSupport.resolve(configuration.python)
        var pid: pid_t = 0
        let result = SpawnSupport.withCStrings(argv) { argvPointer in
            SpawnSupport.withCStrings(environment.map { "\($0.key)=\($0.value)" }) { envPointer in
                fma_spawn(executable, argvPointer, envPointer, nil, 0, fds[1], 3, &pid)
            }
        }
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            return startFailed(RPCError(.internal, "cannot start the zygote (\(executable)): \(String(cString: strerror(result)))"))
        }
        shared.withLockedValue { $0.pid = pid }
        reaper.childSpawned()
        logger.info("zygote starting", metadata: ["zygote_pid": "\(pid)", "preload": "\(configuration.preload.joined(separator: ","))"])
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(LengthPrefixedDecoder<Fma_V1_ZygoteEvent>(maxBytes: FrameCodec.defaultMaxFrameBytes)),
                        ZygoteEventHandler(zygote: self))
                }
            }
        // The channel reports `ZygoteReady` once the zygote has preloaded; until then callers wait.
        let zygotePID = pid
        bootstrap.withConnectedSocket(fds[0]).whenFailure { error in
            kill(zygotePID, SIGKILL)
            self.startFailed(RPCError(.internal, "cannot attach to the zygote's socket: \(error)"))
        }
    }

    private static func waiters(_ state: State) -> [CheckedContinuation<Void, any Error>] {
        if case .starting(let waiters) = state { return waiters }
        return []
    }

    private func startFailed(_ error: RPCError) {
        let waiters = shared.withLockedValue { shared -> [CheckedContinuation<Void, any Error>] in
            defer { if case .starting = shared.state { shared.state = .stopped } }
            return Self.waiters(shared.state)
        }
        logger.error("the zygote could not start", metadata: ["error": "\(error.message)"])
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    // MARK: - Events from the zygote

    fileprivate func received(_ event: Fma_V1_ZygoteEvent, on channel: any Channel) {
        switch event.event {
        case .ready(let ready):
            let waiters = shared.withLockedValue { shared -> [CheckedContinuation<Void, any Error>] in
                let waiters = Self.waiters(shared.state)
                shared.state = .ready(channel: channel, pid: ready.pid)
                return waiters
            }
            logger.info("zygote ready", metadata: [
                "zygote_pid": "\(ready.pid)", "preloaded": "\(ready.preloaded.joined(separator: ","))",
                "failed": "\(ready.failed)", "import_seconds": "\(ready.importSeconds)"])
            for waiter in waiters { waiter.resume() }
        case .forked(let forked):
            shared.withLockedValue { $0.pendingForks.removeValue(forKey: forked.instanceID) }?.resume(returning: forked.pid)
        case .forkFailed(let failed):
            shared.withLockedValue { $0.pendingForks.removeValue(forKey: failed.instanceID) }?
                .resume(throwing: RPCError(.internal, "the zygote could not fork instance \(failed.instanceID): \(failed.error)"))
        case .exited(let exited):
            onExit(exited.pid, ExitRecord(exitCode: exited.exitCode, signal: exited.signal))
        case .none:
            break
        }
    }
}

private final class ZygoteEventHandler: ChannelInboundHandler {
    typealias InboundIn = Fma_V1_ZygoteEvent
    let zygote: Zygote

    init(zygote: Zygote) { self.zygote = zygote }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        zygote.received(unwrapInboundIn(data), on: context.channel)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
