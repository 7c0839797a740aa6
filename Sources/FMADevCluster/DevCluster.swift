public import FMAKubeModel
import Foundation
public import Logging
import NIOConcurrencyHelpers
public import ServiceLifecycle

/// One machine made to look like a small Kubernetes cluster: the object store, the HTTPS API
/// server in front of it, and whatever else runs against the store (the node simulator adds
/// itself with `addService`).
///
/// ```swift
/// let cluster = try DevCluster(configuration: .init(stateDirectory: dir), logger: logger)
/// cluster.addService(simulator)               // optional, before running
/// let endpoints = try await cluster.start()   // binds, writes ca.crt, token, kubeconfig
/// try await ServiceGroup(services: cluster.services, …).run()
/// ```
public final class DevCluster: Sendable {
    public struct Configuration: Sendable {
        /// Where the CA, the server's certificate and key, the token and the kubeconfig are
        /// written (created if missing, mode 0700).
        public var stateDirectory: String
        public var api = APIServer.Configuration()
        /// How often watches that allow bookmarks get one.
        public var bookmarkInterval: Duration = .seconds(30)
        /// The kinds served.
        public var kinds: [ResourceKind] = ResourceKind.all
        /// How many changes the store keeps for watches that start in the past; a watch from
        /// before the oldest gets 410 Expired.
        public var historyLimit: Int = 50_000
        /// The most JSON text that history may hold (each change counted at its object's size).
        public var historyByteLimit: Int = 16 << 20
        /// How long an Event stays after its last occurrence.
        public var eventTTL: Duration = .seconds(3600)
        /// Whether the objects are kept in `stateDirectory/store` (`StoreLog`) and restored
        /// from there, with the credentials and (when `api.port` is 0) the port of the last
        /// run, so existing kubeconfigs keep working; false: memory only, fresh each start.
        public var persistent = true

        public init(stateDirectory: String) {
            self.stateDirectory = stateDirectory
        }
    }

    /// Where a started cluster is and the files that say how to reach it.
    public struct Endpoints: Sendable {
        /// `https://127.0.0.1:PORT`.
        public var url: String
        /// The kubeconfig (current context `fma-devcluster`, namespace `default`).
        public var kubeconfigPath: String
        public var caCertificatePath: String
        public var tokenPath: String
    }

    public let configuration: Configuration
    public let store: ObjectStore
    public let credentials: ClusterCredentials
    public let api: KubeAPI
    private let server: APIServer
    private let bookmarks: BookmarkTicker
    private let extraServices = NIOLockedValueBox<[any Service]>([])
    private let boundURL = NIOLockedValueBox<String?>(nil)
    private let logger: Logger
    private let eventExpiry: EventExpiry

    /// Restores the store, the credentials and the port of the last run from the state
    /// directory (or, not `persistent`, makes fresh credentials and an empty store with the usual
    /// namespaces), behind an API server that is not yet listening.
    public init(configuration: Configuration, logger: Logger) throws {
        var configuration = configuration
        self.logger = logger
        let directory = configuration.stateDirectory
        if configuration.persistent {
            store = try ObjectStore(directory: "\(directory)/store", kinds: configuration.kinds, historyLimit: configuration.historyLimit,
                                    historyByteLimit: configuration.historyByteLimit, admission: .fma(kinds: configuration.kinds))
            for warning in store.restoreWarnings { logger.warning("restoring the store", metadata: ["problem": "\(warning)"]) }
            if store.restoredObjects > 0 {
                logger.info("store restored", metadata: ["objects": "\(store.restoredObjects)", "resource_version": "\(store.resourceVersion)",
                                                         "directory": "\(directory)/store"])
            }
            credentials = try ClusterCredentials.load(directory: directory, logger: logger) ?? ClusterCredentials.generate()
            if configuration.api.port == 0, let port = PreviousPort.read(directory: directory, host: configuration.api.host, logger: logger) {
                configuration.api.port = port
            }
        } else {
            store = ObjectStore(kinds: configuration.kinds, historyLimit: configuration.historyLimit,
                                historyByteLimit: configuration.historyByteLimit, admission: .fma(kinds: configuration.kinds))
            credentials = try ClusterCredentials.generate()
        }
        self.configuration = configuration
        api = KubeAPI(store: store, kinds: configuration.kinds, configuration: KubeAPI.Configuration(token: credentials.token), logger: logger)
        server = try APIServer(api: api, credentials: credentials, configuration: configuration.api, logger: logger)
        bookmarks = BookmarkTicker(store: store, interval: configuration.bookmarkInterval)
        eventExpiry = EventExpiry(store: store, ttl: configuration.eventTTL)
    }

    /// Adds a service that runs beside the API server under the same `ServiceGroup` (the node
    /// simulator, controllers working on `store`). Call before `services` is read.
    public func addService(_ service: any Service) {
        extraServices.withLockedValue { $0.append(service) }
    }

    /// The API server, the bookmark timer, Event expiry and the added services, to run under
    /// one group.
    public var services: [any Service] {
        [server, bookmarks, eventExpiry] + extraServices.withLockedValue { $0 }
    }

    /// Binds the API server and writes the state files: `ca.crt`, `server.crt`, `server.key`,
    /// `token` and `kubeconfig`.
    public func start() async throws -> Endpoints {
        let url = try await server.bind()
        boundURL.withLockedValue { $0 = url }
        let directory = configuration.stateDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let kubeconfig = Kubeconfig(server: url, caCertificatePEM: credentials.caCertificatePEM, token: credentials.token)
        let endpoints = Endpoints(url: url, kubeconfigPath: "\(directory)/kubeconfig", caCertificatePath: "\(directory)/ca.crt",
                                  tokenPath: "\(directory)/token")
        try Self.write(credentials.caCertificatePEM, to: endpoints.caCertificatePath, mode: 0o644)
        try Self.write(credentials.serverCertificatePEM, to: "\(directory)/server.crt", mode: 0o644)
        try Self.write(credentials.serverKeyPEM, to: "\(directory)/server.key", mode: 0o600)
        try Self.write(credentials.token + "\n", to: endpoints.tokenPath, mode: 0o600)
        try Self.write(kubeconfig.yaml, to: endpoints.kubeconfigPath, mode: 0o600)
        if configuration.persistent, let port = URLComponents(string: url)?.port {
            try Self.write("\(port)\n", to: PreviousPort.path(directory: directory), mode: 0o644)
        }
        logger.info("API server ready", metadata: ["url": "\(url)", "kubeconfig": "\(endpoints.kubeconfigPath)"])
        return endpoints
    }

    /// How the simulator's pods reach this API server under their ServiceAccounts
    /// (`NodeSimulator.Configuration.apiAccess`).
    public var podAPIAccess: PodAPIAccess {
        let boundURL = boundURL
        let api = api
        return PodAPIAccess(url: { boundURL.withLockedValue { $0 } }, caCertificatePEM: credentials.caCertificatePEM,
                            token: { namespace, name in api.serviceAccountToken(namespace: namespace, name: name) })
    }

    /// Writes `text` to a temporary file with `mode`, then renames it over `path`, so a reader
    /// sees the old file or the whole new one.
    static func write(_ text: String, to path: String, mode: Int) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        if rename(temporary, path) != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
    }
}
