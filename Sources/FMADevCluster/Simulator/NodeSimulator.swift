import FMAKubeModel
public import Logging
public import ServiceLifecycle
import FMAAPI
import FMAJSON
import Foundation

/// The nodes of fma-devcluster: creates N simulated nodes with M mock GPUs each, and runs
/// the scheduler, one logical kubelet per node (with its node's Lease in `kube-node-lease`) and
/// the ReplicaSet controller against the store. One store watch each for pods, nodes and
/// ReplicaSets feeds all of them.
///
/// Containers whose command is one of this project's executables or `python3 -m` a module
/// of the project's Python directory run as local processes, each pod on its own loopback
/// address; anything else is simulated. A graceful shutdown stops every container it
/// started (SIGTERM, then SIGKILL after the grace period, capped by
/// `Configuration.shutdownGracePeriod`) before `run()` returns.
public struct NodeSimulator: Service {
    public let configuration: Configuration
    private let store: ObjectStore
    private let logger: Logger

    public init(configuration: Configuration, store: ObjectStore, logger: Logger = Logger(label: "fma.devcluster.simulator")) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
    }

    /// The file a container's stdout and stderr go to (for `pods/log`); it may not exist.
    public func logPath(namespace: String, pod: String, container: String) -> String {
        Kubelet.logPath(stateDirectory: configuration.stateDirectory, namespace: namespace, pod: pod, container: container)
    }

    /// The nodes as created (name, loopback address, GPU UUIDs) — for tools and tests.
    public var nodes: [(name: String, address: String, gpuUUIDs: [String])] {
        simulatedNodes.map { ($0.name, $0.address, MockGPUs.uuids(node: $0.name, count: $0.gpus)) }
    }

    private var simulatedNodes: [SimulatedNode] {
        configuration.nodeNames.enumerated().map { offset, name in
            let overrides = configuration.nodeOverrides[name] ?? NodeOverrides()
            return SimulatedNode(name: name, index: configuration.nodeIndexOffset + offset + 1, gpus: overrides.gpus ?? configuration.gpusPerNode,
                                 overrides: overrides)
        }
    }

    public func run() async throws {
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true)
        let leftovers = ContainerProcess.killLeftovers(stateDirectory: configuration.stateDirectory)
        if leftovers > 0 {
            logger.warning("stopped processes an earlier run of this cluster left (it did not shut down)", metadata: ["processes": "\(leftovers)", "state_dir": "\(configuration.stateDirectory)"])
        }
        createNodes()
        if configuration.runGPUInventories { createGPUInventoryPods() }
        let scheduler = Scheduler(store: store, logger: logger)
        let kubelet = Kubelet(store: store, configuration: configuration, logger: logger)
        let replicaSets = ReplicaSetController(store: store, logger: logger)
        let deployments = DeploymentController(store: store, logger: logger)
        let daemonSets = DaemonSetController(store: store, logger: logger)
        let leases = NodeLeases(store: store, nodeNames: configuration.nodeNames, logger: logger)
        let (stop, stopContinuation) = AsyncStream<Void>.makeStream()
        logger.info("node simulator started", metadata: ["nodes": "\(configuration.nodeNames.count)", "gpusPerNode": "\(configuration.gpusPerNode)"])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await scheduler.run() }
                group.addTask { await kubelet.run() }
                group.addTask { await replicaSets.run() }
                group.addTask { await deployments.run() }
                group.addTask { await daemonSets.run() }
                await withDiscardingTaskGroup { pumps in
                    pumps.addTask {
                        await pump(.pod) { event in
                            scheduler.send(.pod(event))
                            kubelet.send(.pod(event))
                            replicaSets.send(.pod(event))
                            daemonSets.send(.pod(event))
                        }
                    }
                    pumps.addTask {
                        await pump(.node) { event in
                            scheduler.send(.node(event))
                            kubelet.send(.node(event))
                            daemonSets.send(.node(event))
                        }
                    }
                    pumps.addTask {
                        await pump(.replicaSet) { event in
                            replicaSets.send(.replicaSet(event))
                            deployments.send(.replicaSet(event))
                        }
                    }
                    pumps.addTask {
                        await pump(.deployment) { deployments.send(.deployment($0)) }
                    }
                    pumps.addTask {
                        await pump(.daemonSet) { daemonSets.send(.daemonSet($0)) }
                    }
                    pumps.addTask { await leases.run() }
                    for await _ in stop {}
                    pumps.cancelAll()
                }
                scheduler.finish()
                replicaSets.finish()
                deployments.finish()
                daemonSets.finish()
                kubelet.send(.shutdown)
            }
        } onGracefulShutdown: {
            stopContinuation.finish()
        }
        logger.info("node simulator stopped")
    }

    /// Delivers every event of `kind` (current objects first, as ADDED) until cancelled. A
    /// watch that ends early is resumed from the last resource version seen; when that version
    /// is too old (410), the objects are listed again and the difference is delivered — a
    /// DELETED for each object that went meanwhile, so no pod's processes outlive it.
    private func pump(_ kind: ResourceKind, _ deliver: @Sendable (StoreEvent) -> Void) async {
        var from: String?
        var known: [String: JSONObject] = [:]
        func key(_ object: JSONObject) -> String {
            ObjectMeta(json: object["metadata"]?.object ?? JSONObject()).key
        }
        while !Task.isCancelled {
            if from == nil {
                guard let current = try? store.list(kind, namespace: nil) else {
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                }
                let present = Dictionary(current.items.map { (key($0), $0) }, uniquingKeysWith: { _, last in last })
                for (name, object) in known where present[name] == nil {
                    deliver(StoreEvent(type: .deleted, object: object))
                }
                for item in current.items {
                    deliver(StoreEvent(type: known[key(item)] == nil ? .added : .modified, object: item))
                }
                known = present
                from = current.resourceVersion
            }
            let watch: StoreWatch
            do {
                watch = try store.watch(kind, namespace: nil, from: from)
            } catch {
                logger.warning("watch failed; listing again", metadata: ["kind": "\(kind)", "error": "\(error)"])
                from = nil
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            for await event in watch {
                if event.type == .bookmark { continue }
                if let version = event.object[path: ["metadata", "resourceVersion"]]?.string { from = version }
                if event.type == .deleted {
                    known[key(event.object)] = nil
                } else {
                    known[key(event.object)] = event.object
                }
                deliver(event)
            }
        }
    }

    private func createNodes() {
        let now = Timestamp.now()
        for node in simulatedNodes {
            let object = node.object(cpu: configuration.cpuPerNode, memory: configuration.memoryPerNode, maxPods: configuration.maxPodsPerNode, now: now)
            do {
                _ = try store.create(.node, namespace: "", object)
            } catch where error.reason == .alreadyExists {
                logger.debug("node exists already", metadata: ["node": "\(node.name)"])
            } catch {
                logger.error("cannot create node", metadata: ["node": "\(node.name)", "error": "\(error)"])
            }
        }
    }

    /// Where `fma-gpu-inventory` of `node` listens when `runGPUInventories` is set.
    public func gpuInventorySocket(node: String) -> String {
        "\(configuration.stateDirectory)/nodes/\(node)/gpu-inventory.sock"
    }

    private func createGPUInventoryPods() {
        let namespace = "fma-system"
        _ = try? store.create(.namespace, namespace: "", ["metadata": ["name": .string(namespace)]])
        for node in simulatedNodes {
            let socket = gpuInventorySocket(node: node.name)
            try? FileManager.default.createDirectory(atPath: (socket as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            var container = Container(name: "gpu-inventory", image: "fma/gpu-inventory")
            container.command = ["fma-gpu-inventory", "node", "--mock", String(node.gpus), "--node-name", "$(NODE_NAME)", "--listen", "unix:" + socket]
            var pod = Pod(name: "gpu-inventory-\(node.name)", namespace: namespace)
            pod.metadata.labels = ["app.kubernetes.io/name": "fma-gpu-inventory", "app.kubernetes.io/component": "node"]
            var spec = PodSpec()
            spec.nodeName = node.name
            spec.containers = [container]
            spec.json["hostNetwork"] = true
            spec.terminationGracePeriodSeconds = 5
            pod.spec = spec
            do {
                _ = try store.create(.pod, namespace: namespace, pod.json)
            } catch where error.reason == .alreadyExists {
                continue
            } catch {
                logger.error("cannot create the GPU inventory pod", metadata: ["node": "\(node.name)", "error": "\(error)"])
            }
        }
    }
}
