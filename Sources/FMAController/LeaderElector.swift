public import FMAKube
import FMAKubeModel
import Foundation
public import Logging

/// Leader election with a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does:
/// a candidate takes the Lease when it is free or its holder stopped renewing for
/// `leaseDuration`; the leader renews every `retryPeriod` and gives up (the process should
/// exit) when it could not renew for `renewDeadline`.
public struct LeaderElector: Sendable {
    public struct Options: Sendable {
        public var leaseName: String
        public var namespace: String
        /// Who this replica is (the Pod name in a cluster).
        public var identity: String
        public var leaseDuration: Duration = .seconds(15)
        public var renewDeadline: Duration = .seconds(10)
        public var retryPeriod: Duration = .seconds(2)

        public init(leaseName: String, namespace: String, identity: String) {
            self.leaseName = leaseName
            self.namespace = namespace
            self.identity = identity
        }
    }

    let client: KubeClient
    let options: Options
    let logger: Logger

    public init(client: KubeClient, options: Options, logger: Logger) {
        self.client = client
        self.options = options
        self.logger = logger
    }

    /// Waits until this replica holds the Lease. Returns false when the task was cancelled first.
    public func acquire() async throws -> Bool {
        var announced = false
        while !Task.isCancelled {
            do {
                if try await tryAcquireOrRenew() {
                    logger.info("became the leader", metadata: ["lease": "\(options.namespace)/\(options.leaseName)", "identity": "\(options.identity)"])
                    return true
                }
                if !announced {
                    logger.info("waiting for the leader lease", metadata: ["lease": "\(options.namespace)/\(options.leaseName)"])
                    announced = true
                }
            } catch {
                logger.warning("could not read or take the leader lease", metadata: ["error": "\(error)"])
            }
            do { try await Task.sleep(for: options.retryPeriod) } catch { return false }
        }
        return false
    }

    /// Renews until the task is cancelled; throws when renewal failed for `renewDeadline`.
    public func keepRenewing() async throws {
        var lastRenewal = ContinuousClock.now
        while true {
            try await Task.sleep(for: options.retryPeriod)
            do {
                if try await tryAcquireOrRenew() {
                    lastRenewal = .now
                    continue
                }
                throw ControllerError("lost the leader lease \(options.namespace)/\(options.leaseName) to another replica")
            } catch let error as ControllerError {
                logger.error("\(error.message)")
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("could not renew the leader lease", metadata: ["error": "\(error)"])
                if ContinuousClock.now - lastRenewal > options.renewDeadline {
                    throw ControllerError("could not renew the leader lease \(options.namespace)/\(options.leaseName) for \(options.renewDeadline): \(error)")
                }
            }
        }
    }

    /// Takes or renews the Lease; false when another live holder has it.
    func tryAcquireOrRenew(now: Date = Date()) async throws -> Bool {
        let stamp = KubeMicroTime.string(now)
        let seconds = Int64(options.leaseDuration.components.seconds)
        let existing: Lease
        switch await read() {
        case .success(let lease):
            existing = lease
        case .failure(let error) where error.isNotFound:
            return try await create(stamp: stamp, seconds: seconds)
        case .failure(let error):
            throw error
        }
        var lease = existing
        let holder = existing.spec.holderIdentity ?? ""
        if !holder.isEmpty && holder != options.identity && !Self.expired(existing.spec, now: now) {
            return false
        }
        var spec = lease.spec
        if holder != options.identity {
            spec.acquireTime = stamp
            spec.leaseTransitions = (spec.leaseTransitions ?? 0) + (holder.isEmpty ? 0 : 1)
            if !holder.isEmpty { logger.info("taking over the leader lease from a holder that stopped renewing", metadata: ["previous": "\(holder)"]) }
        }
        spec.holderIdentity = options.identity
        spec.leaseDurationSeconds = seconds
        spec.renewTime = stamp
        lease.spec = spec
        switch await write(lease) {
        case .success:
            return true
        case .failure(let error) where error.isConflict:
            return false
        case .failure(let error):
            throw error
        }
    }

    private func read() async -> Result<Lease, KubeError> {
        do { return .success(try await client.get(Lease.self, name: options.leaseName, namespace: options.namespace)) } catch { return .failure(error) }
    }

    private func write(_ lease: Lease) async -> Result<Lease, KubeError> {
        do { return .success(try await client.update(lease)) } catch { return .failure(error) }
    }

    private func create(stamp: String, seconds: Int64) async throws -> Bool {
        var lease = Lease(name: options.leaseName, namespace: options.namespace)
        var spec = LeaseSpec()
        spec.holderIdentity = options.identity
        spec.leaseDurationSeconds = seconds
        spec.acquireTime = stamp
        spec.renewTime = stamp
        spec.leaseTransitions = 0
        lease.spec = spec
        let result: Result<Lease, KubeError>
        do { result = .success(try await client.create(lease)) } catch { result = .failure(error) }
        switch result {
        case .success: return true
        case .failure(let error) where error.isAlreadyExists: return false
        case .failure(let error): throw error
        }
    }

    /// Whether the holder's last renewal is older than its lease duration.
    static func expired(_ spec: LeaseSpec, now: Date) -> Bool {
        guard let renew = spec.renewTime.flatMap(KubeMicroTime.date) else { return true }
        return now.timeIntervalSince(renew) > Double(spec.leaseDurationSeconds ?? 15)
    }
}
