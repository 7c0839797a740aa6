public import Logging
public import NIOCore
import NIOConcurrencyHelpers
public import NIOPosix
public import ServiceLifecycle
import FMAWire
import Foundation

/// A server for fma's wire protocol (docs/wire-protocol.md) on Unix sockets and TCP.
///
/// Run it under a `ServiceGroup`: `run()` binds every listener, writes the ready file, serves
/// until graceful shutdown, then drains — new calls get UNAVAILABLE, calls in flight finish
/// (up to the drain timeout) — and removes its socket files.
public final class RPCServer: Service, Sendable {
    public let configuration: Configuration
    private let shared: ServerShared
    private let group: any EventLoopGroup
    private let registry = ConnectionRegistry()
    private let bound = NIOLockedValueBox<BoundState>(.init())

    private struct BoundState {
        var addresses: [RPCAddress]?
        var waiters: [CheckedContinuation<[RPCAddress], any Error>] = []
        var failure: (any Error)?
    }

    public init(
        configuration: Configuration,
        router: RPCRouter,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup
        self.shared = ServerShared(router: router, maxCallsPerConnection: configuration.maxCallsPerConnection,
                                   maxResponsePayload: FrameCodec.maxResponsePayload(maxFrameBytes: configuration.maxFrameBytes),
                                   logger: logger, metrics: RPCServerMetrics(), maxConnectionIdle: configuration.maxConnectionIdle,
                                   partialFrames: PartialFrameBudget(limit: configuration.maxBufferedFrameBytes,
                                                                     unauthenticatedLimit: configuration.maxUnauthenticatedBufferedFrameBytes),
                                   errorLinger: min(configuration.frameTimeout, .seconds(10)))
    }

    /// The addresses the listeners are bound to (port 0 resolved), once they are.
    public func boundAddresses() async throws -> [RPCAddress] {
        try await withCheckedThrowingContinuation { continuation in
            bound.withLockedValue { state in
                if let addresses = state.addresses {
                    continuation.resume(returning: addresses)
                } else if let failure = state.failure {
                    continuation.resume(throwing: failure)
                } else {
                    state.waiters.append(continuation)
                }
            }
        }
    }

    public func run() async throws {
        let channels: [(any Channel, RPCAddress)]
        do {
            try configuration.validate()
            channels = try await bindAll()
        } catch {
            publish(.failure(error))
            throw error
        }
        let addresses = channels.map(\.1)
        shared.logger.info("listening", metadata: ["addresses": "\(addresses.map(\.description).joined(separator: " "))"])
        if let readyFile = configuration.readyFile {
            try ReadyFile.write(lines: addresses.map(\.description) + configuration.readyFileExtraLines, to: readyFile)
        }
        publish(.success(addresses))

        try? await gracefulShutdown()

        shared.logger.info("shutting down: draining calls in flight", metadata: ["connections": "\(registry.all.count)"])
        shared.drain.fire()
        for (channel, _) in channels { try? await channel.close() }
        await drain()
        for address in configuration.listen {
            if case .unix(let path) = address { UnixSocketFile.remove(path) }
        }
        shared.logger.info("stopped")
    }

    private func publish(_ result: Result<[RPCAddress], any Error>) {
        let waiters = bound.withLockedValue { state in
            switch result {
            case .success(let addresses): state.addresses = addresses
            case .failure(let error): state.failure = error
            }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    private func drain() async {
        let connections = registry.all
        let timeout = configuration.drainTimeout
        await withTaskGroup(of: Void.self) { group in
            for connection in connections {
                group.addTask {
                    let drained = connection.eventLoop.flatSubmit { connection.drain() }
                    let timer = connection.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                        connection.cancelAll()
                    }
                    try? await drained.get()
                    timer.cancel()
                    try? await connection.channel.close()
                }
            }
        }
    }

    // MARK: - Listeners

    private func bindAll() async throws -> [(any Channel, RPCAddress)] {
        var channels: [(any Channel, RPCAddress)] = []
        do {
            for address in configuration.listen {
                channels.append(try await bind(address))
            }
        } catch {
            for (channel, _) in channels { try? await channel.close() }
            throw error
        }
        return channels
    }

    private func bind(_ address: RPCAddress) async throws -> (any Channel, RPCAddress) {
        let shared = self.shared
        let registry = self.registry
        let maxFrameBytes = configuration.maxFrameBytes
        let token = address.isTCP ? configuration.token : nil
        let frameTimeout = TimeAmount(configuration.frameTimeout)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        AcceptBackoffHandler(), AcceptFailureLog(logger: shared.logger, listener: "\(address)"))
                }
            }
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let admission = ConnectionAdmission(authenticated: token == nil)
                    try channel.pipeline.syncOperations.addHandlers(
                        FrameGuard(budget: shared.partialFrames, admission: admission, frameTimeout: frameTimeout,
                                   maxFrameBytes: maxFrameBytes) { reason in shared.metrics.connectionLimited(reason: reason) },
                        ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes)),
                        MessageToByteHandler(FrameEncoder()),
                        ServerConnectionHandler(shared: shared, registry: registry, requiresToken: token, admission: admission, listener: address)
                    )
                }
            }
        switch address {
        case .unix(let path):
            try UnixSocketFile.prepare(path)
            let channel = try await UnixSocketFile.bindPrivately(path, mode: 0o660) { bindPath in
                do {
                    return try await bootstrap.bind(unixDomainSocketPath: bindPath).get()
                } catch {
                    throw RPCError(.unavailable, "cannot listen on \(address): \(error)", cause: error)
                }
            }
            return (channel, address)
        case .tcp(let host, let port):
            let channel: any Channel
            do {
                channel = try await bootstrap
                    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                    .bind(host: host, port: port).get()
            } catch {
                throw RPCError(.unavailable, "cannot listen on \(address): \(error)", cause: error)
            }
            let boundPort = channel.localAddress?.port ?? port
            return (channel, .tcp(host: host, port: boundPort))
        }
    }
}
