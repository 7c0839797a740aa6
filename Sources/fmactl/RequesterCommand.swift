import ArgumentParser
import FMACommand
import FMAGPUInventory
import FMARPC
import Foundation

/// `fmactl requester …`: the stub in a server-requesting Pod (fma.v1.Requester).
struct RequesterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requester",
        abstract: "Ask or drive a requester stub: its GPUs, their memory, its readiness, its relayed log.",
        discussion: """
            Examples:
              fmactl requester accelerators tcp://10.0.0.7:8082 --token-file ~/.fma/token
              fmactl requester ready unix:/tmp/requester.sock true
              fmactl requester append-log unix:/tmp/requester.sock --start 0 server.log
            """,
        subcommands: [Accelerators.self, Memory.self, Ready.self, AppendLog.self])

    struct Accelerators: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The GPU UUIDs this requester was given, one a line.", discussion: "Example:\n  fmactl requester accelerators tcp://10.0.0.7:8082 --token-file ~/.fma/token")

        @OptionGroup var target: CallTarget

        func run() async throws {
            let uuids = try await target.call { rpc, timeout throws(RPCError) in
                try await RequesterClient(rpc).accelerators(timeout: timeout)
            }
            switch target.client.output {
            case .json: print(try JSONText.encode(["uuids": uuids]))
            case .text: for uuid in uuids { print(uuid) }
            }
        }
    }

    struct Memory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "MiB in use on each of the requester's GPUs.", discussion: "Example:\n  fmactl requester memory tcp://10.0.0.7:8082 --token-file ~/.fma/token")

        @OptionGroup var target: CallTarget

        func run() async throws {
            let used = try await target.call { rpc, timeout throws(RPCError) in
                try await RequesterClient(rpc).acceleratorMemory(timeout: timeout)
            }
            switch target.client.output {
            case .json: print(try JSONText.encode(used))
            case .text:
                print(TextTable.render([["UUID", "USED_MIB"]] + used.sorted { $0.key < $1.key }.map { [$0.key, "\($0.value)"] }), terminator: "")
            }
        }
    }

    struct Ready: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the readiness (exit 1 when not ready), or set it to true or false.", discussion: "Examples:\n  fmactl requester ready tcp://10.0.0.7:8082 --token-file ~/.fma/token\n  fmactl requester ready tcp://10.0.0.7:8082 --token-file ~/.fma/token false")

        @OptionGroup var target: CallTarget

        @Argument(help: "true or false: set the readiness that /ready reports.")
        var value: Bool?

        func run() async throws {
            let ready = try await target.call { rpc, timeout throws(RPCError) in
                if let value { return try await RequesterClient(rpc).setReady(value, timeout: timeout) }
                return try await RequesterClient(rpc).isReady(timeout: timeout)
            }
            switch target.client.output {
            case .json: print(try JSONText.encode(["ready": ready]))
            case .text: print(ready)
            }
            if value == nil && !ready { throw ExitCode(1) }
        }
    }

    struct AppendLog: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "append-log",
            abstract: "Relay bytes [start, start+length) of a server's log from FILE (or standard input); prints the stored length.", discussion: "Example:\n  fmactl requester append-log tcp://10.0.0.7:8082 --token-file ~/.fma/token --start 0 server.log")

        @OptionGroup var target: CallTarget

        @Argument(help: "The chunk (default: standard input).")
        var file: String?

        @Option(help: "The chunk's offset in the log.")
        var start: Int64

        func run() async throws {
            let data: Data
            if let file {
                do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch { throw ValidationError("cannot read \(file): \(error.localizedDescription)") }
            } else {
                data = FileHandle.standardInput.readDataToEndOfFile()
            }
            let stored = try await target.call { rpc, timeout throws(RPCError) in
                try await RequesterClient(rpc).appendLog(start: start, Array(data), timeout: timeout)
            }
            switch target.client.output {
            case .json: print(try JSONText.encode(["stored": stored]))
            case .text: print(stored)
            }
        }
    }
}

/// Plain values as one line of JSON with sorted keys.
enum JSONText {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
