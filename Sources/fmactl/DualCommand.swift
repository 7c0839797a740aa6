import ArgumentParser
import FMAController
import FMAJSON
import FMAKube
import FMAKubeModel
import Foundation

/// `fmactl dual …`: the dual-pods pairs, from the cluster (KUBECONFIG).
struct DualCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dual",
        abstract: "Show server-requesting Pods and the launchers and instances that serve them.",
        discussion: """
            Reads the cluster with $KUBECONFIG (else in-cluster, else ~/.kube/config), as kubectl does.

            Examples:
              fmactl dual list
              fmactl dual list -n llm -o json
            """,
        subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One line per requester: node, InferenceServerConfig, launcher, instance, how it was served (hot/warm/cold) and its state; then the idle launchers.", discussion: "Example:\n  fmactl dual list -n llm")

        @Option(name: [.customShort("n"), .long], help: ArgumentHelp("The namespace (default: the kubeconfig context's).", valueName: "name"))
        var namespace: String?

        @Option(help: ArgumentHelp("The kubeconfig to use.", valueName: "file"))
        var kubeconfig: String?

        @Option(help: ArgumentHelp("The kubeconfig context to use.", valueName: "name"))
        var context: String?

        @Option(name: [.customShort("o"), .long], help: "text or json.")
        var output: String = "text"

        func validate() throws {
            guard ["text", "json"].contains(output) else { throw ValidationError("-o \(output): give text or json") }
        }

        func run() async throws {
            let config: KubeConfig
            do { config = try KubeConfig.load(kubeconfig: kubeconfig, context: context) } catch {
                FileHandle.standardError.write(Data("fmactl: \(error)\n".utf8))
                throw ExitCode(2)
            }
            let client = KubeClient(config: config)
            let namespace = self.namespace ?? config.namespace
            let pods: [Pod]
            do {
                pods = try await client.listAll(Pod.self, namespace: namespace).items
            } catch {
                await client.shutdown()
                FileHandle.standardError.write(Data("fmactl: listing pods in \(namespace): \(error)\n".utf8))
                throw ExitCode(2)
            }
            await client.shutdown()
            let (pairs, idle) = DualPair.pairs(pods)
            if output == "json" {
                print(Self.json(pairs, idle).serializedString(pretty: true))
                return
            }
            if pairs.isEmpty {
                print("no server-requesting Pods in namespace \(namespace)")
            } else {
                var rows = [["REQUESTER", "NODE", "ISC", "LAUNCHER", "INSTANCE", "PATH", "STATE"]]
                for pair in pairs {
                    rows.append([pair.requester, pair.node, pair.inferenceServerConfig, pair.launcher ?? "-",
                                 pair.instance.map { String($0.prefix(12)) + "…" } ?? "-", pair.path ?? "-", pair.state])
                }
                print(Self.table(rows), terminator: "")
            }
            if !idle.isEmpty {
                print("")
                var rows = [["IDLE LAUNCHER", "NODE", "READY"]]
                for pod in idle {
                    rows.append([pod.metadata.name, pod.metadata.labels[DualPods.Label.nodeName] ?? pod.spec.nodeName ?? "-", pod.isReady ? "true" : "false"])
                }
                print(Self.table(rows), terminator: "")
            }
        }

        static func table(_ rows: [[String]]) -> String {
            let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
            return rows.map { row in
                row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
                }.joined()
            }.joined(separator: "\n") + "\n"
        }

        static func json(_ pairs: [DualPair], _ idle: [Pod]) -> JSONValue {
            .object([
                "pairs": .array(pairs.map { pair in
                    var object: JSONObject = ["requester": .string(pair.requester), "node": .string(pair.node),
                                              "inferenceServerConfig": .string(pair.inferenceServerConfig),
                                              "state": .string(pair.state), "ready": .bool(pair.ready),
                                              "errors": .array(pair.errors.map { .string($0) }),
                                              "gpus": .array(pair.gpus.map { .string($0) })]
                    if let launcher = pair.launcher { object["launcher"] = .string(launcher) }
                    if let instance = pair.instance { object["instance"] = .string(instance) }
                    if let path = pair.path { object["path"] = .string(path) }
                    return .object(object)
                }),
                "idleLaunchers": .array(idle.map { .string($0.metadata.name) }),
            ])
        }
    }
}
