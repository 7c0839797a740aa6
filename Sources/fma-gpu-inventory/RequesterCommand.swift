import ArgumentParser
import FMACommand
import FMAGPUInventory
import FMAHTTPServer
import FMARPC
import Foundation
import Logging

/// `fma-gpu-inventory requester`: the stub in a server-requesting Pod's `inference-server`
/// container.
struct RequesterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requester",
        abstract: "Run the requester stub: fma.v1.Requester over RPC, /ready for the kubelet, and FMA's HTTP SPI.",
        discussion: """
            The GPUs are the ones the device plugin gave this container: NVIDIA_VISIBLE_DEVICES \
            (UUIDs or indices; "all" = every GPU the device source reports; empty, "void" or \
            "none" = no GPU), else CUDA_VISIBLE_DEVICES when it lists UUIDs, else every GPU the \
            device source reports. The device source, also used for memory in use, is --inventory \
            (a node's fma-gpu-inventory; on TCP its token is FMA_TOKEN), else --mock-file, else NVML \
            limited to those GPUs; with none, memory queries fail.

            HTTP: the probes port serves GET /ready (200 "OK" once the controller set the requester \
            ready, 503 before); the SPI port serves FMA's paths: GET /v1/dual-pods/accelerators, \
            GET /v1/dual-pods/accelerator-memory-usage, POST /v1/become-ready, POST \
            /v1/become-unready, POST /v1/set-log?startPos=N. Relayed log bytes (SPI set-log or RPC \
            AppendLog) go to standard output; this process logs to standard error.

            The ready file (--ready-file) lists the RPC addresses, then the probes URL, then the \
            SPI URL (http://HOST:PORT), then the metrics URL if --metrics-listen was given.

            Exit status: 0 after SIGTERM or SIGINT, 10 when the SPI port cannot be bound, 11 when \
            the probes port cannot be bound, 64 on bad usage, 1 on any other failure.

            Example:
              NVIDIA_VISIBLE_DEVICES=GPU-0a1b… fma-gpu-inventory requester --listen tcp://0.0.0.0:8082 \\
                  --token-file /var/run/fma/token --inventory unix:/run/fma/gpu-inventory.sock
            """)

    @Option(name: .customLong("probes-port"), help: ArgumentHelp("The port of GET /ready (default: $PROBES_PORT, else 8080; 0 picks a free one).", valueName: "port"))
    var probesPort: Int?

    @Option(name: .customLong("spi-port"), help: ArgumentHelp("The port of FMA's SPI (default: $SPI_PORT, else 8081; 0 picks a free one).", valueName: "port"))
    var spiPort: Int?

    @Option(name: .customLong("http-host"), help: ArgumentHelp("The address both HTTP ports listen on.", valueName: "host"))
    var httpHost: String = "0.0.0.0"

    @Option(name: .customLong("inventory"), help: ArgumentHelp("A node's fma-gpu-inventory to take the GPUs' memory from: unix:PATH or tcp://HOST:PORT.", valueName: "address"))
    var inventory: String?

    @Option(name: .customLong("mock-file"), help: ArgumentHelp("Take the GPUs' memory from FILE (the node mode's --mock-file format).", valueName: "file"))
    var mockFile: String?

    @OptionGroup var nvml: NVMLOptions

    @OptionGroup var server: ServerOptions

    func validate() throws {
        if inventory != nil && mockFile != nil { throw ValidationError("give --inventory or --mock-file, not both") }
        if let inventory {
            do { _ = try RPCAddress(parsing: inventory) } catch { throw ValidationError("--inventory: \(error)") }
        }
        _ = try ports()
    }

    /// The HTTP ports: each from its flag, else its environment variable, else FMA's default.
    private func ports() throws -> (probes: Int, spi: Int) {
        (try Self.port(probesPort, flag: "--probes-port", environment: "PROBES_PORT", default: 8080),
         try Self.port(spiPort, flag: "--spi-port", environment: "SPI_PORT", default: 8081))
    }

    func run() async throws {
        let logger = try LogSetup.bootstrap(component: "fma-gpu-inventory", level: server.logLevel)
        logger.debug("open-file limit", metadata: ["limit": "\(DescriptorLimit.raiseToHard())"])
        ServerRunner.bootstrapMetrics()
        let (devices, missingReason) = try deviceSource(logger: logger)
        let accelerators = await VisibleDevices.accelerators(environment: ProcessInfo.processInfo.environment, devices: devices, logger: logger)
        logger.info("accelerators", metadata: ["uuids": "\(accelerators.joined(separator: ","))",
                                               "memory_source": "\(devices?.source ?? "none")"])
        let requester = Requester(accelerators: accelerators, devices: devices, missingDevicesReason: missingReason)

        let ports = try ports()
        let spi = HTTPServer(address: .tcp(host: httpHost, port: ports.spi), router: RequesterHTTP.spiRouter(requester: requester, logger: logger),
                             logger: logger, configuration: HTTPServer.Configuration(name: "spi"))
        let probes = HTTPServer(address: .tcp(host: httpHost, port: ports.probes), router: RequesterHTTP.probesRouter(readiness: requester.readiness),
                                logger: logger, configuration: HTTPServer.Configuration(name: "probes"))
        let spiURL = try await Self.bind(spi, what: "the SPI", exitStatus: ExitStatus.spiListenFailed)
        let probesURL = try await Self.bind(probes, what: "the probes", exitStatus: ExitStatus.probesListenFailed)
        try SocketDirectories.create(for: server.listen)
        try await ServerRunner.run(component: "fma-gpu-inventory-requester", services: [RequesterService(requester)], options: server,
                                   logger: logger, extraServices: [probes, spi], extraReadyLines: [probesURL, spiURL])
    }

    /// The device source and, when there is none, why.
    private func deviceSource(logger: Logger) throws -> ((any GPUProbe)?, String) {
        if let inventory {
            let client = RPCClient(address: try RPCAddress(parsing: inventory), token: try TokenSource.load(file: nil))
            return (InventoryProbe(GPUInventoryClient(client)), "")
        }
        if let mockFile {
            do { return (try MockFileProbe(path: mockFile), "") } catch { throw ValidationError("--mock-file: \(error.message)") }
        }
        do {
            return (try NVMLProbe(library: nvml.library), "")
        } catch {
            logger.info("NVML is unavailable; GPU memory cannot be reported", metadata: ["reason": "\(error.message)"])
            return (nil, "NVML is unavailable (\(error.message))")
        }
    }

    private static func bind(_ server: HTTPServer, what: String, exitStatus: Int32) async throws -> String {
        do {
            return HTTPServer.url(try await server.bind())
        } catch {
            FileHandle.standardError.write(Data("fma-gpu-inventory: cannot listen for \(what): \(error)\n".utf8))
            throw ExitCode(exitStatus)
        }
    }

    /// The port from the flag, else the environment variable, else `fallback`.
    private static func port(_ flag: Int?, flag name: String, environment variable: String, default fallback: Int) throws -> Int {
        if let flag {
            guard (0...65535).contains(flag) else { throw ValidationError("\(name) \(flag) is not a port from 0 to 65535") }
            return flag
        }
        guard let text = ProcessInfo.processInfo.environment[variable] else { return fallback }
        guard let port = Int(text), (0...65535).contains(port) else {
            throw ValidationError("\(variable)=\(text) is not a port from 0 to 65535")
        }
        return port
    }
}
