import ArgumentParser
import FMAAPI
import FMACommand
import FMARPC
import FMAWire
import Foundation
import SwiftProtobuf

/// `fmactl launcher …`: instances on one launcher.
struct LauncherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launcher",
        abstract: "Create, inspect, sleep, wake and delete instances on an fma-launcher.",
        discussion: """
            Every subcommand takes the launcher's ADDRESS first (unix:PATH or tcp://HOST:PORT).

            Examples:
              fmactl launcher create unix:/run/fma/launcher.sock --id demo --wait -- --model facebook/opt-125m --port 8005
              fmactl launcher list unix:/run/fma/launcher.sock
              fmactl launcher logs unix:/run/fma/launcher.sock demo -f
              fmactl launcher sleep unix:/run/fma/launcher.sock demo
              fmactl launcher delete unix:/run/fma/launcher.sock demo
            """,
        subcommands: [Create.self, Get.self, List.self, Delete.self, Sleep.self, Wake.self, Logs.self, Watch.self])

    struct Target: ParsableArguments {
        @Argument(help: "The launcher: unix:PATH or tcp://HOST:PORT.")
        var address: String

        @OptionGroup var client: ClientOptions

        func launcher() throws -> LauncherClient {
            LauncherClient(try client.makeClient(address: address), timeout: client.timeoutDuration)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start an instance; the server's options follow --.",
            discussion: """
                With --wait, follows the launcher's events until the instance is ready (the launcher's own \
                probe found GET /health answering on its --port: a READY event), printing a dot a second; \
                exits 1 when it stops first or --wait-timeout passes.

                Example:
                  fmactl launcher create unix:/run/fma/launcher.sock --id granite --gpu GPU-0a1b… --wait -- --model ibm-granite/granite-3.3-2b-instruct --port 8005 --enable-sleep-mode
                """)

        @OptionGroup var target: Target
        @Option(help: "The instance id (default: the launcher picks a UUID).") var id: String = ""
        @Option(name: .customLong("env"), help: ArgumentHelp("NAME=VALUE for the instance's environment (repeatable).", valueName: "NAME=VALUE"))
        var env: [String] = []
        @Option(name: .customLong("gpu"), help: ArgumentHelp("A GPU UUID for the instance (repeatable).", valueName: "uuid")) var gpus: [String] = []
        @Option(name: .customLong("annotation"), help: ArgumentHelp("KEY=VALUE kept with the instance (repeatable).", valueName: "KEY=VALUE"))
        var annotations: [String] = []
        @Flag(help: "Wait until the launcher reports the instance ready (it answers /health).") var wait = false
        @Option(help: "Seconds --wait waits at most.") var waitTimeout = Seconds(600)
        @Argument(parsing: .postTerminator, help: "The server's options.") var options: [String] = []

        func run() async throws {
            let launcher = try target.launcher()
            var request = Fma_V1_CreateInstanceRequest()
            request.id = id
            request.options = options
            request.envVars = try Self.pairs(env, "--env")
            request.gpuUuids = gpus
            request.annotations = try Self.pairs(annotations, "--annotation")
            let instance: Fma_V1_Instance
            let events: RPCResponseStream<Fma_V1_InstanceEvent>?
            do {
                // Watching first: readiness events are not replayed, so none can slip between
                // the create's answer and the watch.
                events = wait ? try await launcher.watch() : nil
                instance = try await launcher.create(request)
            } catch {
                throw CallFailure.exit(error)
            }
            try Output.instance(instance, format: target.client.output)
            if let events { try await Self.waitReady(instance, events: events, timeout: waitTimeout.duration) }
        }

        static func pairs(_ entries: [String], _ option: String) throws -> [String: String] {
            var result: [String: String] = [:]
            for entry in entries {
                guard let equals = entry.firstIndex(of: "=") else {
                    throw ValidationError("\(option) '\(entry)' is not NAME=VALUE")
                }
                result[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
            }
            return result
        }

        /// Follows the launcher's events for the instance until READY (its server answers
        /// /health, as the launcher's own probe finds), STOPPED or DELETED, printing a dot a second.
        static func waitReady(_ instance: Fma_V1_Instance, events: RPCResponseStream<Fma_V1_InstanceEvent>, timeout: Duration) async throws {
            guard instance.port > 0 else {
                throw ValidationError("--wait needs the instance to have a --port option (the launcher probes /health there)")
            }
            if instance.ready { return }
            let started = ContinuousClock.now
            FileHandle.standardError.write(Data("waiting for \(instance.id) to answer /health on port \(instance.port)".utf8))
            let outcome = try await withThrowingTaskGroup(of: Fma_V1_InstanceEvent?.self) { group in
                group.addTask {
                    for try await event in events where event.instance.id == instance.id {
                        if event.instance.ready || event.instance.status == .stopped || event.type == .deleted { return event }
                    }
                    return nil
                }
                group.addTask {
                    while ContinuousClock.now - started < timeout {
                        try await Task.sleep(for: .seconds(1))
                        FileHandle.standardError.write(Data(".".utf8))
                    }
                    return nil
                }
                defer { group.cancelAll() }
                do { return try await group.next() ?? nil } catch let error as RPCError { throw CallFailure.exit(error) }
            }
            let elapsed = (ContinuousClock.now - started).formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow))
            switch outcome {
            case .some(let event) where event.instance.ready:
                FileHandle.standardError.write(Data("\nready after \(elapsed)\n".utf8))
            case .some:
                let how = outcome.map { Output.status($0.instance) } ?? ""
                FileHandle.standardError.write(Data("\nfmactl: \(instance.id) \(how) before it answered /health; see fmactl launcher logs\n".utf8))
                throw ExitCode(1)
            default:
                FileHandle.standardError.write(Data("\nfmactl: \(instance.id) did not answer /health within \(timeout) (the launcher's watch ended or the time ran out)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one instance.", discussion: "Example:\n  fmactl launcher get unix:/run/fma/launcher.sock granite -o json")
        @OptionGroup var target: Target
        @Argument(help: "The instance id.") var id: String

        func run() async throws {
            do {
                try Output.instance(try await target.launcher().get(id), format: target.client.output)
            } catch let error as RPCError {
                throw CallFailure.exit(error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the instances (and the launcher's revision).", discussion: "Example:\n  fmactl launcher list unix:/run/fma/launcher.sock")
        @OptionGroup var target: Target

        func run() async throws {
            let launcher = try target.launcher()
            let list: Fma_V1_ListInstancesResponse
            do { list = try await launcher.list() } catch { throw CallFailure.exit(error) }
            switch target.client.output {
            case .json: print(try list.jsonString())
            case .text: Output.table(list.instances, revision: list.revision)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop an instance, or --all of them (SIGTERM, then SIGKILL after the grace period), and forget it.", discussion: "Examples:\n  fmactl launcher delete unix:/run/fma/launcher.sock granite --grace 10\n  fmactl launcher delete unix:/run/fma/launcher.sock --all")
        @OptionGroup var target: Target
        @Argument(help: "The instance id (or --all).") var id: String?
        @Flag(help: "Delete every instance of the launcher.") var all = false
        @Option(help: "Seconds between SIGTERM and SIGKILL (default: the launcher's --grace-period).") var grace: Seconds?

        func validate() throws {
            guard (id != nil) != all else { throw ValidationError("give an instance id or --all (not both)") }
        }

        func run() async throws {
            let launcher = try target.launcher()
            let timeout = (grace?.duration ?? .zero) + .seconds(60)
            do {
                if let id {
                    let instance = try await launcher.delete(id, gracePeriodSeconds: grace?.value ?? 0, timeout: timeout)
                    try Output.instance(instance, format: target.client.output)
                    return
                }
                let deleted = try await launcher.deleteAll(gracePeriodSeconds: grace?.value ?? 0, timeout: timeout)
                switch target.client.output {
                case .json: print(try deleted.jsonString())
                case .text: Output.table(deleted.instances, revision: nil)
                }
            } catch let error as RPCError {
                throw CallFailure.exit(error)
            }
        }
    }

    struct Sleep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put an instance to sleep (POST /sleep?level=N on its admin API).", discussion: "Example:\n  fmactl launcher sleep unix:/run/fma/launcher.sock granite --level 1")
        @OptionGroup var target: Target
        @Argument(help: "The instance id.") var id: String
        @Option(help: "1: weights to host memory; 2: weights discarded.") var level: UInt32 = 1

        func run() async throws {
            do {
                try Output.instance(try await target.launcher().sleep(id, level: level), format: target.client.output)
            } catch let error as RPCError {
                throw CallFailure.exit(error)
            }
        }
    }

    struct Wake: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Wake a sleeping instance (POST /wake_up).", discussion: "Example:\n  fmactl launcher wake unix:/run/fma/launcher.sock granite")
        @OptionGroup var target: Target
        @Argument(help: "The instance id.") var id: String

        func run() async throws {
            do {
                try Output.instance(try await target.launcher().wake(id), format: target.client.output)
            } catch let error as RPCError {
                throw CallFailure.exit(error)
            }
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an instance's log; -f follows it.", discussion: "Example:\n  fmactl launcher logs unix:/run/fma/launcher.sock granite -f")
        @OptionGroup var target: Target
        @Argument(help: "The instance id.") var id: String
        @Flag(name: [.customShort("f"), .customLong("follow")], help: "Keep printing new output until the instance is deleted or Ctrl-C.")
        var follow = false
        @Option(help: "The first byte to print.") var start: UInt64 = 0

        func run() async throws {
            let launcher = try target.launcher()
            do {
                if follow {
                    for try await chunk in try await launcher.followLog(id, start: start) {
                        FileHandle.standardOutput.write(chunk.data)
                    }
                } else {
                    var offset = start
                    while true {
                        let part = try await launcher.log(id, start: offset)
                        FileHandle.standardOutput.write(part.data)
                        offset += UInt64(part.data.count)
                        if offset >= part.totalSize || part.data.isEmpty { break }
                    }
                }
            } catch let error as RPCError {
                if error.code == .outOfRange, !follow { return }  // nothing (more) to print
                throw CallFailure.exit(error)
            }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print instance events as they happen.", discussion: "Example:\n  fmactl launcher watch unix:/run/fma/launcher.sock -o json")
        @OptionGroup var target: Target
        @Option(help: "Resume after this revision.") var since: UInt64?

        func run() async throws {
            do {
                for try await event in try await target.launcher().watch(since: since) {
                    switch target.client.output {
                    case .json: print(try event.jsonString())
                    case .text: print("\(event.revision)\t\(Output.name(event.type))\t\(event.instance.id)\t\(Output.status(event.instance))")
                    }
                    fflush(nil)  // each event as it happens, also into a pipe
                }
            } catch let error as RPCError {
                throw CallFailure.exit(error)
            }
        }
    }
}

/// How fmactl prints instances.
enum Output {
    static func instance(_ instance: Fma_V1_Instance, format: ClientOptions.Output) throws {
        switch format {
        case .json: print(try instance.jsonString())
        case .text:
            table([instance], revision: nil)
            if instance.hasPreloadGap { print("imported after the fork: \(instance.preloadGap.summary)") }
        }
    }

    static func table(_ instances: [Fma_V1_Instance], revision: UInt64?) {
        var rows = [["ID", "STATUS", "READY", "PID", "PORT", "SLEEP", "GPUS", "REVISION"]]
        for instance in instances {
            rows.append([instance.id, status(instance), instance.ready ? "yes" : "no", "\(instance.pid)", instance.port == 0 ? "-" : "\(instance.port)",
                         instance.sleepState == .sleeping ? "sleeping(\(instance.sleepLevel))" : "awake",
                         instance.envVars["CUDA_VISIBLE_DEVICES"] ?? "-", "\(instance.revision)"])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        if let revision { print("revision \(revision)") }
    }

    static func status(_ instance: Fma_V1_Instance) -> String {
        switch instance.status {
        case .running: return "running"
        case .stopped:
            guard instance.exit.known else { return "stopped(?)" }
            return instance.exit.signal != 0 ? "stopped(signal \(instance.exit.signal))" : "stopped(\(instance.exit.exitCode))"
        default: return "unknown"
        }
    }

    static func name(_ type: Fma_V1_InstanceEvent.TypeEnum) -> String {
        switch type {
        case .created: return "CREATED"
        case .stopped: return "STOPPED"
        case .deleted: return "DELETED"
        case .sleeping: return "SLEEPING"
        case .awake: return "AWAKE"
        case .ready: return "READY"
        case .notReady: return "NOT_READY"
        default: return "UNKNOWN"
        }
    }
}
