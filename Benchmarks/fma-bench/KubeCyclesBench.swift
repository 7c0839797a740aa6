import ArgumentParser
import FMAKube
import FMAKubeModel
import Foundation

/// `fma-bench kube-cycles`: fma-devcluster's memory over repeated create/delete cycles.
struct KubeCyclesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube-cycles",
        abstract: "Create and delete --pods pods --cycles times in fma-devcluster; report its resident memory after each cycle.",
        discussion: """
            Starts fma-devcluster (from the same directory as this executable) with --nodes \
            simulated nodes and, each cycle, creates --pods pods (simulated containers), waits \
            until all run, deletes them all and waits until they are gone; then reads the \
            server's resident memory. What it keeps must be bounded (the watch history by count \
            and bytes, Events by count and age), so memory must level off once those bounds are \
            full: each cycle is printed as a ratio to the first, and the last ten cycles' \
            lowest and highest. Use a release build: `make bench`.
            """)

    @Option(help: "Simulated nodes.")
    var nodes = 100

    @Option(help: "Pods created and deleted each cycle.")
    var pods = 2_000

    @Option(help: "Cycles.")
    var cycles = 10

    @Option(help: "Concurrent calls.")
    var concurrency = 32

    func run() async throws {
        let directory = try BenchScratch.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try BenchScratch.spawn(BenchScratch.sibling("fma-devcluster"), [
            "serve", "--state-dir", directory + "/cluster", "--ready-file", directory + "/ready",
            "--nodes", String(nodes), "--gpus-per-node", "0", "--log-level", "warning",
        ])
        defer { BenchScratch.stop(server) }
        try await BenchScratch.waitForFile(directory + "/ready", what: "fma-devcluster", seconds: 60)
        let client = try KubeClient.unthrottled(kubeconfig: directory + "/cluster/kubeconfig")
        defer { Task { await client.shutdown() } }

        print("fma-bench kube-cycles: \(nodes) nodes, \(pods) pods created and deleted \(cycles) times, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("idle: \(BenchScratch.residentKiB(server) / 1024) MiB")
        print("")
        print("| cycle | create + run s | delete s | Events kept | RSS after delete MiB | ratio to cycle 1 |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        var first = 0
        var resident: [Int] = []
        for cycle in 1...cycles {
            let start = ContinuousClock.now
            try await forEachPod { name in
                var pod = Pod(name: name, namespace: "default")
                pod.json["spec"] = ["containers": [["name": "server", "image": "registry.invalid/simulated:1"]]]
                _ = try await client.create(pod)
            }
            try await waitUntil("every pod Running") {
                let list: ObjectList<Pod> = try await client.listAll(namespace: "default")
                return list.items.count == pods && list.items.allSatisfy { $0.status.phase == "Running" }
            }
            let created = ContinuousClock.now
            try await forEachPod { name in
                _ = try await client.delete(Pod.self, name: name, namespace: "default")
            }
            try await waitUntil("every pod gone") {
                let list: ObjectList<Pod> = try await client.listAll(namespace: "default")
                return list.items.isEmpty
            }
            let deleted = ContinuousClock.now
            let rss = BenchScratch.residentKiB(server)
            let events: ObjectList<Event> = try await client.listAll()
            if cycle == 1 { first = rss }
            resident.append(rss)
            print(String(format: "| %d | %.1f | %.1f | %d | %d | %.2f× |", cycle, (created - start).seconds, (deleted - created).seconds,
                         events.items.count, rss / 1024, Double(rss) / Double(max(first, 1))))
        }
        // The first cycles fill what is kept up to its bounds (Events, the watch history); after
        // that the same live objects must take the same memory.
        let last = resident.suffix(10)
        if let low = last.min(), let high = last.max() {
            print("")
            print(String(format: "RSS over the last %d cycles: %d to %d MiB (max/min %.3f×)", last.count, low / 1024, high / 1024,
                         Double(high) / Double(max(low, 1))))
        }
    }

    /// Runs `body` for every pod name, --concurrency at a time.
    private func forEachPod(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let pods = pods, concurrency = concurrency
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var index = worker
                    while index < pods {
                        try await body("cycle-\(index)")
                        index += concurrency
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Polls `condition` every 200 ms for at most 5 minutes.
    private func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(300)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw ValidationError("fma-bench kube-cycles: timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
