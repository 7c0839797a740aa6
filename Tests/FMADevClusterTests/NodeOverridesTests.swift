@testable import FMADevCluster
import FMAJSON
import FMAKube
import FMAKubeModel
import FMATestSupport
import Foundation
import Testing

/// `--nodes-file`: nodes with their own GPU count, labels and allocatable resources.
@Suite struct NodeOverridesTests {
    private func parse(_ yaml: String) throws -> [String: NodeOverrides] {
        try NodeOverrides.parse(try YAMLText.json(yaml), nodeNames: ["node-1", "node-2"])
    }

    @Test func aNodesFileIsReadAndCheckedField_byField() throws {
        let read = try parse("""
            node-2:
              gpus: 8
              labels: {pool: big}
              allocatable: {example.com/widget: 3, memory: 128Gi}
            """)
        #expect(read == ["node-2": NodeOverrides(gpus: 8, labels: ["pool": "big"], allocatable: ["example.com/widget": "3", "memory": "128Gi"])])
        #expect(try parse("") == [:])
        let cases: [(String, String)] = [
            ("node-3: {gpus: 1}", "node \"node-3\" is not one of the simulated nodes (node-1 … node-2; see --nodes)"),
            ("node-1: {gpus: 65}", "node-1.gpus: expected a GPU count from 0 to 64, got 65"),
            ("node-1: {allocatable: {cpu: lots}}", "node-1.allocatable[cpu]: quantity \"lots\" is invalid: it does not start with a number (digits with at most one decimal point)"),
            ("node-1: {allocatable: {nvidia.com/gpu: 2}}", "node-1.allocatable: give the GPU count as node-1.gpus, so the node's mock GPUs match it"),
            ("node-1: {taints: []}", "node-1: unknown field \"taints\" (known: gpus, labels, allocatable)"),
            ("- node-1", "expected a mapping of node names to their settings, got array"),
        ]
        for (yaml, message) in cases {
            #expect(throws: NodeOverridesError.self, "\(yaml)") { try parse(yaml) }
            do { _ = try parse(yaml) } catch let error as NodeOverridesError { #expect(error.message == message) }
        }
    }

    @Test func overriddenNodesAreCreatedSoAndScheduledByThem() async throws {
        let overrides = ["node-2": NodeOverrides(gpus: 6, labels: ["pool": "big"], allocatable: ["example.com/widget": "3"])]
        try await withSimulator(nodes: 2, gpusPerNode: 1, overrides: overrides) { store, simulator in
            let node = Node(json: try store.get(.node, namespace: "", name: "node-2"))
            #expect(node.metadata.labels["pool"] == "big")
            #expect(node.status.allocatable["example.com/widget"] == "3")
            #expect(node.status.allocatable["nvidia.com/gpu"] == "6")
            #expect(Node(json: try store.get(.node, namespace: "", name: "node-1")).status.allocatable["nvidia.com/gpu"] == "1")
            #expect(simulator.nodes.first { $0.name == "node-2" }?.gpuUUIDs.count == 6)
            // Four GPUs fit only node-2.
            _ = try store.create(.pod, namespace: "default", podJSON("wide", containers: [simulatedContainer(gpus: 4)]))
            try await waitUntil("the pod placed") {
                Pod(json: try store.get(.pod, namespace: "default", name: "wide")).spec.nodeName == "node-2"
            }
        }
    }
}
