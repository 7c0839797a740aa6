import ArgumentParser
import CFMAEarlyMalloc
import FMACommand
import FMADevCluster
import FMAKube
import FMARPC
import Foundation
import Logging
import ServiceLifecycle

/// `fma-devcluster serve`: the API server and the node simulator until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the Kubernetes API over HTTPS (and simulate nodes) until SIGTERM or SIGINT.",
        discussion: """
            At its first start in --state-dir it makes a certificate authority, a server \
            certificate for 127.0.0.1, ::1 and localhost, and a random bearer token, and writes \
            them there with a kubeconfig (context fma-devcluster, namespace default) that kubectl \
            and fma's client read:

              DIR/kubeconfig   DIR/ca.crt   DIR/token   DIR/server.crt   DIR/server.key

            What survives a restart with the same --state-dir (after SIGTERM, a crash or kill -9): \
            every object (kept in DIR/store: a log of changes, written before each change is \
            answered, folded into a snapshot as it grows; a machine crash may lose the last \
            second), resource versions continuing from where they were (a watch from before the \
            restart gets 410 Expired and relists, as after etcd's compaction), the credentials, \
            and the port when --listen asks for port 0 and the last one is free, so kubeconfigs \
            keep working. Pods' containers are started again, as a kubelet does after a node \
            reboot; processes a killed run left are stopped first. --in-memory keeps nothing: \
            every start is an empty cluster (namespaces default, kube-system, kube-public, \
            kube-node-lease) with fresh credentials.

            Served: discovery, OpenAPI v2 and v3 (top-level fields only), namespaces, pods, configmaps, \
            secrets, serviceaccounts, nodes, events (core v1 and events.k8s.io/v1: the same \
            objects), services, replicasets (with the scale subresource), leases, and FMA's InferenceServerConfig, LauncherConfig and \
            LauncherPopulationPolicy (fma.llm-d.ai/v1alpha1) with their validation; list, watch \
            (resourceVersion, bookmarks), create, update, merge and JSON patch, delete with \
            finalizers and grace periods, the status subresource, pods' logs, strategic merge \
            patch for built-in kinds (lists merged by Kubernetes' keys); server-side apply is not \
            served. Bodies are JSON, or protobuf for the few kinds kubectl's generator commands \
            send that way (namespaces, configmaps, secrets, serviceaccounts, roles and bindings, \
            access and token requests); others answer 415: use `create -f` or `apply -f`.

            Who may do what: the kubeconfig's token is the admin (group system:masters) and may \
            do everything. A ServiceAccount's token (`kubectl create token NAME`, and the one \
            each pod gets) may do what its Roles and ClusterRoles allow through their bindings \
            (RBAC: verbs, API groups, resources and subresources, resourceNames, namespaces, \
            paths); anything else is a 403 that names user, verb, resource and namespace as a \
            real API server's does. Every namespace has its default ServiceAccount. `kubectl \
            --as`, `auth can-i [--list]` and `auth whoami` work. Tokens stop working when their \
            account is deleted.

            --nodes N simulated nodes (node-1 … node-N) with --gpus-per-node mock GPUs each (or \
            what --nodes-file gives a node: its own GPU count, labels and allocatable resources) run \
            the pods scheduled to them; --nodes 0 serves the API alone. A container whose command \
            is one of fma's executables (found beside this one) or `python3 -m` one of fma's \
            Python modules (python/ of the checkout) runs as a real process, on the pod's own \
            loopback address 127.X.Y.P, with NODE_NAME, POD_NAME, NAMESPACE, POD_UID, \
            POD_IP and NVIDIA_VISIBLE_DEVICES (the node's mock GPU UUIDs) set and its output in \
            `kubectl logs`, and its ServiceAccount's credentials: KUBERNETES_SERVICE_HOST and \
            KUBERNETES_SERVICE_PORT, the token, ca.crt and namespace under \
            DIR/simulator/pods/NAMESPACE/POD/serviceaccount standing for \
            /var/run/secrets/kubernetes.io/serviceaccount, and KUBECONFIG naming a kubeconfig \
            there with the same token (pods share this machine's filesystem); other images are simulated (Running and Ready at once). Secret and \
            configMap volumes are written as files under DIR/simulator/pods/NAMESPACE/POD/volumes, \
            and a command word, argument or env value naming a path under a volume's mountPath \
            is rewritten to them. Deleting a pod sends SIGTERM to its containers' \
            process groups, then SIGKILL after its grace period to everything they started.

            The ready file (--ready-file) gets the server's URL, then the kubeconfig's path, then \
            the metrics URL if --metrics-listen was given, once the server accepts requests.

            Exit status: 0 after SIGTERM or SIGINT, 64 on bad usage, 1 on any other failure (e.g. \
            an address that cannot be listened on).

            Examples:
              fma-devcluster serve --state-dir /tmp/fma-dev
              export KUBECONFIG=/tmp/fma-dev/kubeconfig
              kubectl get nodes
              kubectl apply -f deploy/examples/launcherconfig.yaml
            """)

    @Option(help: ArgumentHelp("Where the credentials, the kubeconfig and the objects are kept (created if missing); a restart with the same directory restores them.", valueName: "dir"))
    var stateDir: String

    @Option(help: ArgumentHelp("HOST:PORT the API server listens on (port 0: a free one; [::1]:PORT for IPv6).", valueName: "address"))
    var listen: String = "127.0.0.1:0"

    @Option(help: ArgumentHelp("Write the URL, the kubeconfig path (and the metrics URL) here, one a line, once ready.", valueName: "file"))
    var readyFile: String?

    @Option(help: ArgumentHelp("Serve Prometheus metrics over HTTP at tcp://HOST:PORT/metrics.", valueName: "address"))
    var metricsListen: String?

    @Option(help: "Simulated nodes (0: the API server alone).")
    var nodes: Int = 1

    @Option(help: "Mock GPUs per simulated node (their UUIDs are those fma-gpu-inventory --mock gives the node).")
    var gpusPerNode: Int = 4

    @Option(help: ArgumentHelp("A YAML or JSON file giving nodes their own GPU count, labels and allocatable resources (applied when a node is created), e.g. `node-2: {gpus: 8, labels: {pool: big}, allocatable: {example.com/widget: \"3\"}}`.", valueName: "file"))
    var nodesFile: String?

    @Flag(help: ArgumentHelp("Run fma-gpu-inventory for each simulated node, as pod gpu-inventory-NODE in namespace fma-system (socket: DIR/simulator/nodes/NODE/gpu-inventory.sock)."))
    var gpuInventories = false

    @Option(help: "Seconds between BOOKMARK events on watches that allow them.")
    var bookmarkInterval = Seconds(30)

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Flag(help: ArgumentHelp("Keep objects in memory only: every start is a new, empty cluster with new credentials. Without it, objects are kept in --state-dir/store and a restart with the same --state-dir restores them, the credentials and the port."))
    var inMemory = false

    func validate() throws {
        _ = try listenAddress()
        if let metricsListen {
            do { _ = try RPCAddress(parsing: metricsListen) } catch { throw ValidationError("--metrics-listen: \(error)") }
        }
        guard (0...1000).contains(nodes) else { throw ValidationError("--nodes \(nodes) is not a node count from 0 to 1000") }
        guard (0...64).contains(gpusPerNode) else { throw ValidationError("--gpus-per-node \(gpusPerNode) is not a GPU count from 0 to 64") }
        guard bookmarkInterval.value > 0, bookmarkInterval.value <= 3600 else { throw ValidationError("--bookmark-interval must be between 0 and 3600 seconds") }
    }

    /// `--nodes-file`, read and checked; a problem is a usage error naming the file and the field.
    static func readNodesFile(_ path: String, nodeNames: [String]) throws -> [String: NodeOverrides] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("--nodes-file \(path): cannot be read: \(error.localizedDescription)")
        }
        do {
            return try NodeOverrides.parse(try YAMLText.json(text), nodeNames: nodeNames)
        } catch {
            throw ValidationError("--nodes-file \(path): \(error)")
        }
    }

    /// `--listen` (`HOST:PORT` or `[IPv6]:PORT`), read as the TCP address every fma server takes.
    private func listenAddress() throws -> (host: String, port: Int) {
        let address: RPCAddress
        do { address = try RPCAddress(parsing: "tcp://" + listen) } catch {
            throw ValidationError("--listen \(listen): \(error.reason)")
        }
        guard case .tcp(let host, let port) = address else { throw ValidationError("--listen \(listen): expected HOST:PORT") }
        return (host, port)
    }

    func run() async throws {
        let logger = try LogSetup.bootstrap(component: "fma-devcluster", level: logLevel)
        logger.debug("open-file limit", metadata: ["limit": "\(DescriptorLimit.raiseToHard())"])
        // One malloc arena and large buffers mapped on their own, set before main by
        // CFMAEarlyMalloc: with glibc's defaults (eight arenas per core, a threshold that rises
        // after every large free) the memory freed by each create/delete burst stayed scattered
        // over arenas and heap, and resident memory rose over cycles whose live objects were the
        // same (docs/performance.md, fma-bench kube-cycles).
        logger.debug("malloc", metadata: ["tuning": "\(String(cString: fma_early_malloc_summary()))"])
        ServerRunner.bootstrapMetrics()
        let (host, port) = try listenAddress()
        var configuration = DevCluster.Configuration(stateDirectory: stateDir)
        configuration.api = APIServer.Configuration(host: host, port: port)
        configuration.bookmarkInterval = bookmarkInterval.duration
        configuration.persistent = !inMemory
        let cluster = try DevCluster(configuration: configuration, logger: logger)
        if nodes > 0 {
            var simulator = NodeSimulator.Configuration(nodes: nodes, gpusPerNode: gpusPerNode, stateDirectory: "\(stateDir)/simulator")
            simulator.binDirectory = NodeSimulator.Configuration.defaultBinDirectory
            simulator.runGPUInventories = gpuInventories
            simulator.apiAccess = cluster.podAPIAccess
            if let nodesFile { simulator.nodeOverrides = try Self.readNodesFile(nodesFile, nodeNames: simulator.nodeNames) }
            let nodes = NodeSimulator(configuration: simulator, store: cluster.store, logger: logger)
            cluster.api.logSource.set { namespace, pod, container in nodes.logPath(namespace: namespace, pod: pod, container: container) }
            cluster.addService(nodes)
        }
        let endpoints = try await cluster.start()
        var services = cluster.services
        var readyLines = [endpoints.url, endpoints.kubeconfigPath]
        if let metricsListen {
            let (metrics, url) = try await ServerRunner.bindMetrics(listen: metricsListen, logger: logger)
            readyLines.append(url)
            services.append(metrics)
        }
        if let readyFile {
            try ReadyFile.write(lines: readyLines, to: readyFile)
        }
        FileHandle.standardOutput.write(Data("fma-devcluster is serving \(endpoints.url)\nexport KUBECONFIG=\(endpoints.kubeconfigPath)\n".utf8))
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        cluster.store.sync()
        if let persistenceFailure = cluster.store.persistenceFailure {
            logger.error("the store could not be kept on disk", metadata: ["error": "\(persistenceFailure)"])
        }
        if let readyFile { try? FileManager.default.removeItem(atPath: readyFile) }
    }
}
