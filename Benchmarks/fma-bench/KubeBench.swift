import ArgumentParser
import FMAJSON
import FMAKube
import FMAKubeModel
import Foundation
import NIOConcurrencyHelpers

/// `fma-bench kube`: fma-devcluster at scale, watched by informers as a controller would.
struct KubeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube",
        abstract: "Create simulated pods in fma-devcluster while informers watch; report rates, latencies, memory.",
        discussion: """
            Starts fma-devcluster (from the same directory as this executable) with --nodes simulated \
            nodes, opens --informers pod informers through the Kubernetes client, then creates --pods \
            pods (simulated containers) from --concurrency tasks. Reports the create rate, create \
            latency and watch-delivery latency (create sent → every informer's handler has it) with \
            their ratio to a GET round trip on the same server measured first (the floor), the time \
            until every pod is scheduled and Running as the informers see it, and the server's \
            resident memory. It runs twice, on a new cluster each time: first with --in-memory (the \
            baseline), then keeping its store on disk (the default), and prints the second's create \
            figures as ratios to the first's. Use a release build: `make bench`.
            """)

    @Option(help: "Simulated nodes.")
    var nodes = 1000

    @Option(help: "GPUs per simulated node.")
    var gpusPerNode = 8

    @Option(help: "Pods to create.")
    var pods = 10_000

    @Option(help: "Pod informers watching while the pods are created.")
    var informers = 3

    @Option(help: "Concurrent create calls.")
    var concurrency = 32

    func run() async throws {
        print("fma-bench kube: \(nodes) nodes × \(gpusPerNode) GPUs, \(pods) pods, \(informers) informers, \(concurrency) concurrent creates, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("\n## store in memory (--in-memory): the baseline")
        let memory = try await measure(persistent: false)
        print("\n## store kept on disk (the default)")
        let disk = try await measure(persistent: true)
        print("")
        print("| on disk vs in memory | in memory | on disk | ratio |")
        print("|---|---|---|---|")
        print(String(format: "| create p50 ms | %.3f | %.3f | %.2f× |", memory.createP50, disk.createP50, disk.createP50 / memory.createP50))
        print(String(format: "| create p99 ms | %.3f | %.3f | %.2f× |", memory.createP99, disk.createP99, disk.createP99 / memory.createP99))
        print(String(format: "| create rate pods/s | %.0f | %.0f | %.2f× |", memory.createRate, disk.createRate, disk.createRate / memory.createRate))
        print("store on disk after the run: \(disk.storeBytes / 1024) KiB")
    }

    struct Figures {
        var createP50: Double
        var createP99: Double
        var createRate: Double
        var storeBytes: Int
    }

    private func measure(persistent: Bool) async throws -> Figures {
        let directory = try BenchScratch.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let executable = BenchScratch.sibling("fma-devcluster")
        let server = try BenchScratch.spawn(executable, [
            "serve", "--state-dir", directory + "/cluster", "--ready-file", directory + "/ready",
            "--nodes", String(nodes), "--gpus-per-node", String(gpusPerNode), "--log-level", "warning",
        ] + (persistent ? [] : ["--in-memory"]))
        defer { BenchScratch.stop(server) }
        try await BenchScratch.waitForFile(directory + "/ready", what: "fma-devcluster", seconds: 60)
        let rssIdle = BenchScratch.residentKiB(server)

        let client = try KubeClient.unthrottled(kubeconfig: directory + "/cluster/kubeconfig")
        defer { Task { await client.shutdown() } }

        // The floor: a GET of one object, back to back, on the same server and client.
        var floor = LatencySample()
        let floorStart = ContinuousClock.now
        for _ in 0..<500 {
            let before = ContinuousClock.now
            _ = try await client.get(Namespace.self, name: "default")
            floor.nanoseconds.append((ContinuousClock.now - before).nanoseconds)
        }
        floor.elapsed = ContinuousClock.now - floorStart

        // Informers over all pods, each recording when it first sees a pod and when it sees it Running.
        let arrivals = Arrivals(informers: informers)
        var informerTasks: [Task<Void, Never>] = []
        for index in 0..<informers {
            let informer = Informer(client.listerWatcher(Pod.self))
            informer.addHandler { event in
                let name = event.object.metadata.name
                guard name.hasPrefix("bench-") else { return }
                if case .added = event { arrivals.seen(name, by: index) }
                if event.object.status.phase == "Running" { arrivals.running(name, by: index) }
            }
            informerTasks.append(Task { await informer.run() })
            _ = await informer.waitForSync()
        }
        defer { informerTasks.forEach { $0.cancel() } }

        // Create the pods.
        let sent = NIOLockedValueBox([String: ContinuousClock.Instant]())
        let createStart = ContinuousClock.now
        var createLatencies: [UInt64] = []
        try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var latencies: [UInt64] = []
                    var i = worker
                    while i < pods {
                        var pod = Pod(name: "bench-\(i)", namespace: "default")
                        pod.json["spec"] = ["containers": [["name": "server", "image": "registry.invalid/simulated:1"]]]
                        let before = ContinuousClock.now
                        sent.withLockedValue { $0[pod.metadata.name] = before }
                        _ = try await client.create(pod)
                        latencies.append((ContinuousClock.now - before).nanoseconds)
                        i += concurrency
                    }
                    return latencies
                }
            }
            for try await part in group { createLatencies += part }
        }
        let createElapsed = ContinuousClock.now - createStart
        let rssAfterCreate = BenchScratch.residentKiB(server)

        // Wait (bounded) for every informer to have seen every pod, then for every pod to run.
        let deadline = ContinuousClock.now + .seconds(300)
        while arrivals.seenCount < pods * informers, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let deliveredAll = ContinuousClock.now - createStart
        while arrivals.runningCount < pods * informers, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let runningAll = ContinuousClock.now - createStart
        let rssEnd = BenchScratch.residentKiB(server)

        var delivery = LatencySample()
        let sentAt = sent.withLockedValue { $0 }
        for (name, times) in arrivals.seenTimes() {
            guard let start = sentAt[name] else { continue }
            for time in times { delivery.nanoseconds.append((time - start).nanoseconds) }
        }
        var creates = LatencySample()
        creates.nanoseconds = createLatencies

        let floorP50 = floor.percentile(0.5)
        print("")
        print("| measure | p50 ms | p99 ms | ratio p50 to GET p50 |")
        print("|---|---|---|---|")
        print(String(format: "| GET one object (floor, sequential) | %.3f | %.3f | 1.00× |", floorP50 / 1000, floor.percentile(0.99) / 1000))
        print(String(format: "| create pod (%d concurrent) | %.3f | %.3f | %.2f× |", concurrency, creates.percentile(0.5) / 1000, creates.percentile(0.99) / 1000, creates.percentile(0.5) / floorP50))
        print(String(format: "| watch delivery (create sent → handler), %d informers | %.3f | %.3f | %.2f× |", informers, delivery.percentile(0.5) / 1000, delivery.percentile(0.99) / 1000, delivery.percentile(0.5) / floorP50))
        print("")
        print(String(format: "create rate: %.0f pods/s (%d pods in %.2f s); GET rate (sequential): %.0f/s", Double(pods) / createElapsed.seconds, pods, createElapsed.seconds, floor.callsPerSecond))
        print(String(format: "every informer has every pod: %.2f s after the first create (%d of %d deliveries)", deliveredAll.seconds, arrivals.seenCount, pods * informers))
        print(String(format: "every pod scheduled and Running, as every informer sees it: %.2f s (%d of %d)", runningAll.seconds, arrivals.runningCount, pods * informers))
        print("fma-devcluster resident memory: \(rssIdle / 1024) MiB idle with \(nodes) nodes, \(rssAfterCreate / 1024) MiB after the creates, \(rssEnd / 1024) MiB with \(pods) pods running")
        let storeFiles = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/cluster/store")) ?? []
        let storeBytes = storeFiles.reduce(0) { total, name in
            total + ((try? FileManager.default.attributesOfItem(atPath: directory + "/cluster/store/" + name)[.size] as? Int) ?? 0)
        }
        return Figures(createP50: creates.percentile(0.5) / 1000, createP99: creates.percentile(0.99) / 1000,
                       createRate: Double(pods) / createElapsed.seconds, storeBytes: storeBytes)
    }
}

/// When each informer first saw each pod, and saw it Running.
final class Arrivals: Sendable {
    private struct State {
        var seen: [String: [ContinuousClock.Instant]] = [:]
        var seenBy: Set<String> = []
        var runningBy: Set<String> = []
    }

    private let state = NIOLockedValueBox(State())
    let informers: Int

    init(informers: Int) {
        self.informers = informers
    }

    func seen(_ name: String, by informer: Int) {
        let now = ContinuousClock.now
        state.withLockedValue {
            if $0.seenBy.insert("\(informer)/\(name)").inserted {
                $0.seen[name, default: []].append(now)
            }
        }
    }

    func running(_ name: String, by informer: Int) {
        state.withLockedValue { _ = $0.runningBy.insert("\(informer)/\(name)") }
    }

    var seenCount: Int { state.withLockedValue { $0.seenBy.count } }
    var runningCount: Int { state.withLockedValue { $0.runningBy.count } }
    func seenTimes() -> [String: [ContinuousClock.Instant]] { state.withLockedValue { $0.seen } }
}
