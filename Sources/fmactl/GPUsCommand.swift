import ArgumentParser
import FMACommand
import FMAGPUInventory
import FMARPC
import FMAWire
import Foundation

/// `fmactl gpus …`: a node's GPUs, from its fma-gpu-inventory (fma.v1.GPUInventory).
struct GPUsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpus",
        abstract: "Ask a node's fma-gpu-inventory about its GPUs.",
        discussion: """
            Examples:
              fmactl gpus list unix:/run/fma/gpu-inventory.sock
              fmactl gpus translate unix:/run/fma/gpu-inventory.sock GPU-0a1b… GPU-9f8e…
              fmactl gpus watch unix:/run/fma/gpu-inventory.sock --interval-ms 500 -o json
              kubectl create configmap gpu-map \\
                --from-literal=node-1="$(fmactl gpus map-entry unix:/run/fma/gpu-inventory.sock)"
            """,
        subcommands: [List.self, Translate.self, Memory.self, Watch.self, MapEntry.self])

    struct MapEntry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "map-entry",
            abstract: "Print the node's entry of the gpu-map ConfigMap (direct mode): a JSON object of GPU UUID to index.",
            discussion: """
                fma-controller's direct mode gives each server-providing Pod its GPUs as \
                CUDA_VISIBLE_DEVICES, read from the ConfigMap gpu-map in its namespace: one data key per \
                node, whose value is this line. The node's name is the inventory's (--node-name).

                Example:
                  fmactl gpus map-entry unix:/run/fma/gpu-inventory.sock
                """)

        @OptionGroup var target: CallTarget

        func run() async throws {
            let response = try await target.call { rpc, timeout throws(RPCError) in
                try await GPUInventoryClient(rpc).listDevices(timeout: timeout)
            }
            let entries = response.devices.map { "\"\($0.uuid)\": \($0.index)" }
            print("{" + entries.joined(separator: ", ") + "}")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the GPUs: index, UUID, name, memory used and total (MiB), processes (pid:MiB).", discussion: "Example:\n  fmactl gpus list unix:/run/fma/gpu-inventory.sock")

        @OptionGroup var target: CallTarget

        func run() async throws {
            let response = try await target.call { rpc, timeout throws(RPCError) in
                try await GPUInventoryClient(rpc).listDevices(timeout: timeout)
            }
            switch target.client.output {
            case .json: print(try response.jsonString())
            case .text:
                print("node \(response.nodeName) (\(response.source)): \(DeviceTable.count(response.devices))")
                print(DeviceTable.render(response.devices), terminator: "")
            }
        }
    }

    struct Translate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Translate GPU UUIDs to indices; prints the CUDA_VISIBLE_DEVICES value.", discussion: "Example:\n  fmactl gpus translate unix:/run/fma/gpu-inventory.sock GPU-0a1b… GPU-9f8e…")

        @OptionGroup var target: CallTarget

        @Argument(help: "GPU UUIDs, in the order wanted.")
        var uuids: [String] = []

        func run() async throws {
            let response = try await target.call { rpc, timeout throws(RPCError) in
                try await GPUInventoryClient(rpc).translate(uuids, timeout: timeout)
            }
            switch target.client.output {
            case .json: print(try response.jsonString())
            case .text: print(response.cudaVisibleDevices)
            }
        }
    }

    struct Memory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Memory in use per GPU (MiB); all GPUs unless UUIDs are given.", discussion: "Example:\n  fmactl gpus memory unix:/run/fma/gpu-inventory.sock -o json")

        @OptionGroup var target: CallTarget

        @Argument(help: "GPU UUIDs (default: every GPU).")
        var uuids: [String] = []

        func run() async throws {
            let response = try await target.call { rpc, timeout throws(RPCError) in
                try await GPUInventoryClient(rpc).memoryUsage(uuids, timeout: timeout)
            }
            switch target.client.output {
            case .json: print(try response.jsonString())
            case .text:
                print(TextTable.render([["INDEX", "UUID", "USED_MIB", "TOTAL_MIB"]] + response.gpus.map {
                    ["\($0.index)", $0.uuid, "\($0.usedBytes >> 20)", "\($0.totalBytes >> 20)"]
                }), terminator: "")
            }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the GPUs, then again each time one changes (until Ctrl-C or --count events).", discussion: "Example:\n  fmactl gpus watch unix:/run/fma/gpu-inventory.sock --count 5")

        @OptionGroup var target: CallTarget

        @Option(name: .customLong("interval-ms"), help: "How often the server samples while watched (0: its default, 1000).")
        var intervalMs: UInt32 = 0

        @Option(help: "Stop after this many events (0: never).")
        var count: Int = 0

        func run() async throws {
            let rpc = try target.client.makeClient(address: target.address)
            defer { Task { await rpc.close() } }
            var seen = 0
            do {
                for try await event in try await GPUInventoryClient(rpc).watchDevices(intervalMs: intervalMs) {
                    switch target.client.output {
                    case .json: print(try event.jsonString())
                    case .text:
                        print("\(event.type == .initial ? "INITIAL" : "CHANGED") \(DeviceTable.count(event.devices))")
                        print(DeviceTable.render(event.devices), terminator: "")
                    }
                    seen += 1
                    if count > 0, seen >= count { return }
                }
            } catch let error as RPCError {
                throw CallFailure.exit(error)
            }
        }
    }
}

/// GPUs as a text table.
enum DeviceTable {
    /// "1 GPU", "3 GPUs".
    static func count(_ devices: [Fma_V1_GPUDevice]) -> String {
        devices.count == 1 ? "1 GPU" : "\(devices.count) GPUs"
    }

    static func render(_ devices: [Fma_V1_GPUDevice]) -> String {
        TextTable.render([["INDEX", "UUID", "NAME", "USED_MIB", "TOTAL_MIB", "PROCESSES"]] + devices.map { device in
            let processes = device.processes.map { "\($0.pid):\($0.usedMemoryBytes >> 20)" }.joined(separator: ",")
            return ["\(device.index)", device.uuid, device.name, "\(device.memoryUsedBytes >> 20)", "\(device.memoryTotalBytes >> 20)",
                    processes.isEmpty ? "-" : processes]
        })
    }
}

/// Rows of cells, left-aligned in columns two spaces apart, one line each.
enum TextTable {
    static func render(_ rows: [[String]]) -> String {
        let widths = rows.reduce(into: [Int]()) { widths, row in
            for (column, cell) in row.enumerated() {
                if column == widths.count { widths.append(0) }
                widths[column] = max(widths[column], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ") + "\n"
        }.joined()
    }
}

/// The server a command calls, and how: the address, then the client options.
struct CallTarget: ParsableArguments {
    @Argument(help: "The server: unix:PATH or tcp://HOST:PORT.")
    var address: String

    @OptionGroup var client: ClientOptions

    /// Makes one call with a fresh client; a failed call exits 2 printing `fmactl: CODE: message`.
    func call<T: Sendable>(_ body: (RPCClient, Duration) async throws(RPCError) -> T) async throws -> T {
        let rpc = try client.makeClient(address: address)
        defer { Task { await rpc.close() } }
        do {
            return try await body(rpc, client.timeoutDuration)
        } catch {
            throw CallFailure.exit(error)
        }
    }
}
