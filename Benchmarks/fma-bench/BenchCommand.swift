import ArgumentParser
import FMAAPI
import FMARPC
import Foundation

/// `fma-bench`: the project's benchmarks. Prints ratios against a baseline measured in the same run.
@main
struct FMABench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fma-bench",
        abstract: "fma's benchmarks; each prints ratios against a baseline measured in the same run.",
        subcommands: [BenchCommand.self, LauncherBench.self, KubeBench.self, KubeCyclesBench.self, ControllerBench.self, ScaleBench.self, ScaleLaunchersCommand.self, PopulatorBench.self],
        defaultSubcommand: BenchCommand.self)
}

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc",
        abstract: "Measure the RPC runtime against a raw SwiftNIO echo, in one run.",
        discussion: """
            Starts fma-demo (from the same directory as this executable) and a raw length-prefixed \
            echo server, then runs back-to-back unary calls over a Unix socket and TCP with 1 and \
            8 connections. Use a release build: `make bench`.
            """)

    @Option(help: "Seconds to measure each case.")
    var seconds: Double = 3

    @Option(help: "Alternating rounds per case (the seconds are split among them).")
    var rounds: Int = 6

    @Option(help: "Seconds of warm-up before each case.")
    var warmup: Double = 0.5

    @Option(help: "Bytes of text in each echoed message.")
    var messageBytes: Int = 32

    func run() async throws {
        let directory = try BenchScratch.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let token = "bench-token"
        try token.write(toFile: directory + "/token", atomically: true, encoding: .utf8)

        let demo = try startDemo(directory: directory)
        defer { BenchScratch.stop(demo) }
        let demoAddresses = try await readyAddresses(directory + "/ready")

        let (rawUnixChannel, rawUnix) = try await RawEcho.serve(.unix(path: directory + "/raw.sock"))
        let (rawTCPChannel, rawTCP) = try await RawEcho.serve(.tcp(host: "127.0.0.1", port: 0))
        defer { rawUnixChannel.close(promise: nil); rawTCPChannel.close(promise: nil) }

        let text = String(repeating: "x", count: messageBytes)
        let rawMessage = Array(text.utf8)
        let duration = Duration.milliseconds(Int64(seconds * 1000))
        let warm = Duration.milliseconds(Int64(warmup * 1000))
        let bearer = BearerToken(token)

        print("fma-bench: unary round trips, \(messageBytes)-byte message, \(seconds) s per case, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("")
        print("| transport | conns | raw echo p50 µs | raw p99 µs | raw calls/s | fma RPC p50 µs | RPC p99 µs | RPC calls/s | p50 ratio | throughput ratio |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for (name, raw, rpc) in [("unix", rawUnix, demoAddresses[0]), ("tcp", rawTCP, demoAddresses[1])] {
            for connections in [1, 8] {
                var rawCalls: RoundTrips = []
                var rpcCalls: RoundTrips = []
                for _ in 0..<connections {
                    let rawClient = try await RawEcho.Client(raw)
                    rawCalls.append { try await rawClient.roundTrip(rawMessage) }
                    let rpcClient = DemoClient(RPCClient(address: rpc, token: rpc.isTCP ? bearer : nil))
                    rpcCalls.append { _ = try await rpcClient.echo(text) }
                }
                let (rawSample, rpcSample) = try await compare(rawCalls, rpcCalls, rounds: rounds, duration: duration, warmup: warm)
                let p50Ratio = rpcSample.percentile(0.5) / max(rawSample.percentile(0.5), 0.001)
                let throughputRatio = rpcSample.callsPerSecond / max(rawSample.callsPerSecond, 0.001)
                print("| \(name) | \(connections) | \(f(rawSample.percentile(0.5))) | \(f(rawSample.percentile(0.99))) | \(f(rawSample.callsPerSecond, 0)) | \(f(rpcSample.percentile(0.5))) | \(f(rpcSample.percentile(0.99))) | \(f(rpcSample.callsPerSecond, 0)) | \(f(p50Ratio, 2))× | \(f(throughputRatio, 2))× |")
            }
        }
    }

    private func f(_ value: Double, _ digits: Int = 1) -> String {
        String(format: "%.\(digits)f", value)
    }

    private func startDemo(directory: String) throws -> pid_t {
        try BenchScratch.spawn(BenchScratch.sibling("fma-demo"), [
            "--listen", "unix:\(directory)/demo.sock", "--listen", "tcp://127.0.0.1:0",
            "--token-file", directory + "/token", "--ready-file", directory + "/ready", "--log-level", "warning",
        ])
    }

    private func readyAddresses(_ path: String) async throws -> [RPCAddress] {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                return try text.split(separator: "\n").map { try RPCAddress(parsing: String($0)) }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ValidationError("fma-demo did not write its ready file \(path) within 20 s")
    }
}
