// swift-tools-version:6.2
import PackageDescription

/// Settings every fma target compiles with: Swift 6 language mode (the tools version), explicit
/// `any`, import access levels, and warnings treated as errors.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

/// Tests and test support: the same, but imports stay public (no API to guard there).
let testSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "fma",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fmactl", targets: ["fmactl"]),
        .executable(name: "fma-demo", targets: ["fma-demo"]),
        .executable(name: "fma-health", targets: ["fma-health"]),
        .executable(name: "fma-gpu-inventory", targets: ["fma-gpu-inventory"]),
        .executable(name: "fma-launcher", targets: ["fma-launcher"]),
        .executable(name: "fma-devcluster", targets: ["fma-devcluster"]),
        .executable(name: "fma-controller", targets: ["fma-controller"]),
        .library(name: "FMARPC", targets: ["FMARPC"]),
        .library(name: "FMAAPI", targets: ["FMAAPI"]),
        .library(name: "CFMAClient", targets: ["CFMAClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // The wire format: generated protobuf messages and the framing codec. No I/O.
        .target(
            name: "FMAWire",
            dependencies: [
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The RPC runtime: server and client over Unix and TCP sockets (SwiftNIO).
        .target(
            name: "FMARPC",
            dependencies: [
                "FMAWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Typed clients and service implementations shared by every component.
        .target(
            name: "FMAAPI",
            dependencies: [
                "FMARPC", "FMAWire",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Command-line plumbing shared by the executables: addresses, logging, running a server.
        .target(
            name: "FMACommand",
            dependencies: [
                "FMARPC", "FMAAPI", "CFMAProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The C client library for other tools (libprotobuf-c); public header in include/.
        .target(
            name: "CFMAClient",
            cSettings: [.headerSearchPath("include")],
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        .executableTarget(name: "fma-health", dependencies: ["CFMAClient"]),
        // A small HTTP/1.1 server (SwiftNIO): probes, metrics, FMA's REST and SPI surfaces.
        .target(
            name: "FMAHTTPServer",
            dependencies: [
                "FMARPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // libcurl, with typed wrappers for its variadic calls.
        .target(
            name: "CFMACurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        // The project's one HTTP client (libcurl): vLLM's admin API, the Kubernetes API.
        .target(
            name: "FMAHTTPClient",
            dependencies: [
                "CFMACurl",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // JSON values that keep every field and its order; merge patch and JSON patch. No I/O.
        .target(name: "FMAJSON", swiftSettings: strictSettings),
        // Kubernetes objects as typed views over their JSON (unknown fields survive), resource
        // kinds, label and field selectors, Status. Shared by the client and fma-devcluster.
        .target(name: "FMAKubeModel", dependencies: ["FMAJSON"], swiftSettings: strictSettings),
        // The Kubernetes API client (libcurl): kubeconfig / in-cluster configuration, requests,
        // watches, informers, the work queue.
        .target(
            name: "FMAKube",
            dependencies: [
                "FMAJSON", "FMAKubeModel", "FMAHTTPClient",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // A one-machine cluster: an HTTPS API-server subset and a node simulator.
        .target(
            name: "FMADevCluster",
            dependencies: [
                "FMAJSON", "FMAKubeModel", "FMAHTTPServer", "FMAHTTPClient", "FMARPC", "FMAAPI", "CFMAProcess",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "fma-devcluster",
            dependencies: ["FMADevCluster", "FMACommand", "CFMAEarlyMalloc", "FMAKube", "FMAKubeModel", "FMARPC", "FMAAPI",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: strictSettings
        ),
        // The dual-pods controller: requesters served hot, warm or cold through launchers.
        .target(
            name: "FMAController",
            dependencies: [
                "FMAKube", "FMAKubeModel", "FMAJSON", "FMAHTTPClient", "FMARPC", "FMAAPI", "FMAWire", "FMAGPUInventory",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "fma-controller",
            dependencies: ["FMAController", "FMACommand", "CFMAEarlyMalloc", "FMAKube", "FMAKubeModel", "FMARPC",
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: strictSettings
        ),
        // NVML, loaded at run time with dlopen: nothing links against the driver.
        .target(
            name: "CFMANVML",
            linkerSettings: [.linkedLibrary("dl")]
        ),
        // GPUs per node (NVML or mock) and the requester stub.
        .target(
            name: "FMAGPUInventory",
            dependencies: [
                "FMARPC", "FMAAPI", "FMAWire", "FMAHTTPServer", "CFMANVML",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "fma-gpu-inventory",
            dependencies: ["FMAGPUInventory", "FMACommand", "FMAAPI", "FMARPC", "FMAHTTPServer",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // Process plumbing for the launcher: posix_spawn attributes, pidfd, subreaper.
        .target(name: "CFMAProcess"),
        // One malloc arena and a fixed mmap threshold from before main (fma-devcluster, fma-controller).
        .target(name: "CFMAEarlyMalloc"),
        // The launcher: instances forked from a preinitialized Python zygote.
        .target(
            name: "FMALauncher",
            dependencies: [
                "FMARPC", "FMAAPI", "FMAWire", "FMAHTTPClient", "FMAHTTPServer", "FMAGPUInventory", "CFMAProcess",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "fma-launcher",
            dependencies: ["FMALauncher", "FMACommand", "FMAAPI", "FMARPC", "CFMAProcess", "FMAHTTPServer",
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "fma-demo",
            dependencies: ["FMACommand", "FMAAPI", "FMARPC",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "fmactl",
            dependencies: ["FMACommand", "FMAAPI", "FMARPC", "FMAWire", "FMAGPUInventory", "FMAController", "FMAKube", "FMAKubeModel", "FMAJSON",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "fma-bench",
            dependencies: ["FMACommand", "FMAAPI", "FMARPC", "FMAWire", "FMAKube", "FMAKubeModel", "FMAJSON",
                           "FMAHTTPClient", "FMAHTTPServer", "FMAGPUInventory", "CFMAProcess",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/fma-bench",
            swiftSettings: strictSettings
        ),
        .target(
            name: "FMATestSupport",
            dependencies: ["FMADevCluster", "FMARPC", "FMAAPI", "FMAWire",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Tests/FMATestSupport",
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "FMAWireTests",
            dependencies: ["FMAWire", "FMATestSupport",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOTestUtils", package: "swift-nio")],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "FMARPCTests",
            dependencies: ["FMARPC", "FMAAPI", "FMAWire", "FMATestSupport",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "FMAHTTPServerTests",
            dependencies: ["FMAHTTPServer", "FMARPC", "FMATestSupport",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "FMAHTTPClientTests",
            dependencies: ["FMAHTTPClient", "FMATestSupport"],
            exclude: ["http_test_server.py", "h2_test_server.py"],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "FMAGPUInventoryTests",
            dependencies: ["FMAGPUInventory", "FMAAPI", "FMARPC", "FMAWire", "FMATestSupport"],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "FMALauncherTests",
            dependencies: ["FMALauncher", "FMAAPI", "FMARPC", "FMAWire", "FMATestSupport"],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "FMAJSONTests",
            dependencies: ["FMAJSON", "FMAKubeModel"],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "FMAKubeTests",
            dependencies: ["FMAKube", "FMAKubeModel", "FMAJSON", "FMADevCluster", "FMAHTTPClient", "FMAHTTPServer", "FMARPC", "FMATestSupport",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio")],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "FMADevClusterTests",
            dependencies: ["FMAAPI", "FMARPC", "FMAWire", "FMADevCluster", "FMAKube", "FMAKubeModel", "FMAJSON", "FMAHTTPClient", "FMAHTTPServer", "FMATestSupport",
                           .product(name: "NIOHTTP1", package: "swift-nio")],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "FMAControllerTests",
            dependencies: ["FMAController", "FMACommand", "FMAKube", "FMAKubeModel", "FMAJSON", "FMADevCluster", "FMAAPI", "FMARPC", "FMAWire", "FMATestSupport", "FMAHTTPClient",
                           .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "FMAIntegrationTests",
            dependencies: ["FMAAPI", "FMARPC", "FMAWire", "CFMAClient", "FMATestSupport",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: testSettings
        ),
    ]
)
