import FMAGPUInventory
import FMARPC
import FMATestSupport
import FMAWire
import Foundation
import Synchronization

/// `fma-gpu-inventory` running as a process, its addresses read from its ready file.
final class InventoryProcess: Sendable {
    let process: ChildProcess
    /// The ready file's lines: RPC addresses, then (requester) the probes and SPI URLs, then the
    /// metrics URL if asked for.
    let lines: [String]

    init(_ arguments: [String], directory: String, environment: [String: String] = [:], name: String = "inventory") async throws {
        let ready = "\(directory)/\(name).ready"
        let process = try ChildProcess(binDirectory + "/fma-gpu-inventory", arguments + ["--ready-file", ready], directory: directory,
                                       environment: environment, name: name)
        self.process = process
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: ready) {
            if let ended = try? await process.waitForExit(timeout: .milliseconds(1)) {
                throw TestSupportError("\(name) ended (\(ended)) before it was ready: \(process.stderr)")
            }
            guard ContinuousClock.now < deadline else { throw TestSupportError("\(name) was not ready within 20 s: \(process.stderr)") }
            try await Task.sleep(for: .milliseconds(10))
        }
        lines = try String(contentsOfFile: ready, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    var rpcAddress: RPCAddress { get throws { try RPCAddress(parsing: lines[0]) } }
    func client() throws -> RPCClient { RPCClient(address: try rpcAddress) }
    func stop() { process.stop() }
}

/// One HTTP exchange made by /usr/bin/curl: the status and the body.
func curl(_ method: String, _ url: String, body: String? = nil, directory: String) async throws -> (status: Int, body: String) {
    let output = "\(directory)/curl-\(UUID().uuidString.prefix(8))"
    var arguments = ["-sS", "-X", method, "-o", output, "-w", "%{http_code}"]
    if let body {
        let input = output + ".in"
        try body.write(toFile: input, atomically: true, encoding: .utf8)
        arguments += ["-H", "Content-Type: text/plain", "--data-binary", "@\(input)"]
    }
    let run = try await runCommand("/usr/bin/curl", arguments + [url], directory: directory)
    guard run.termination.exitCode == 0, let status = Int(run.stdout) else {
        throw TestSupportError("curl \(method) \(url) failed (\(run.termination)): \(run.stderr)")
    }
    return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
}

/// A probe whose devices a test sets, counting how often it is sampled.
final class ScriptedProbe: GPUProbe {
    private let state: Mutex<(devices: [Fma_V1_GPUDevice], samples: Int)>
    var source: String { "mock" }

    init(_ devices: [Fma_V1_GPUDevice]) {
        state = Mutex((devices, 0))
    }

    func sample() throws(RPCError) -> [Fma_V1_GPUDevice] {
        state.withLock { state in
            state.samples += 1
            return state.devices
        }
    }

    var samples: Int { state.withLock { $0.samples } }

    func update(_ change: (inout [Fma_V1_GPUDevice]) -> Void) {
        state.withLock { change(&$0.devices) }
    }
}

/// Two mock GPUs of `node`, as `--mock 2` makes them.
func mockDevices(node: String = "node-t", count: Int = 2) -> [Fma_V1_GPUDevice] {
    MockProbe(node: node, count: count).sample()
}

/// A stand-in for libnvidia-ml.so.1 exporting what fma loads: two GPUs, the second with two
/// processes; `FAKE_NVML_INIT_RESULT` makes nvmlInit fail with that code.
let fakeNVMLSource = #"""
#include <stdlib.h>
#include <string.h>
typedef struct { unsigned long long total, free, used; } mem_t;
typedef struct { unsigned int pid; unsigned long long used; unsigned int gi, ci; } proc_t;
static const char *uuids[] = {"GPU-fa4e0000-0000-4000-8000-000000000000", "GPU-fa4e0001-0000-4000-8000-000000000001"};
int nvmlInit_v2(void) { const char *r = getenv("FAKE_NVML_INIT_RESULT"); return r ? atoi(r) : 0; }
int nvmlShutdown(void) { return 0; }
int nvmlDeviceGetCount_v2(unsigned int *n) { *n = 2; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **d) { if (i > 1) return 2; *d = (void *)(unsigned long)(i + 1); return 0; }
static unsigned int idx(void *d) { return (unsigned int)(unsigned long)d - 1; }
int nvmlDeviceGetUUID(void *d, char *s, unsigned int n) { strncpy(s, uuids[idx(d)], n); return 0; }
int nvmlDeviceGetName(void *d, char *s, unsigned int n) { (void)d; strncpy(s, "Fake H100", n); return 0; }
int nvmlDeviceGetMemoryInfo(void *d, mem_t *m) { m->total = 16ULL << 30; m->used = (idx(d) + 1ULL) << 30; m->free = m->total - m->used; return 0; }
int nvmlDeviceGetComputeRunningProcesses_v3(void *d, unsigned int *n, proc_t *p) {
    unsigned int want = idx(d) == 1 ? 2 : 0;
    if (*n < want) { *n = want; return 7; }
    *n = want;
    if (want == 2) { p[0].pid = 4242; p[0].used = 512ULL << 20; p[1].pid = 77; p[1].used = ~0ULL; }
    return 0;
}
const char *nvmlErrorString(int r) { return r == 9 ? "Driver Not Loaded" : r == 0 ? "Success" : "Unknown Error"; }
"""#

/// Builds the fake NVML into `directory` with cc; returns the library's path.
func buildFakeNVML(in directory: String) async throws -> String {
    let source = directory + "/fake_nvml.c"
    let library = directory + "/libfake-nvml.so"
    try fakeNVMLSource.write(toFile: source, atomically: true, encoding: .utf8)
    let compiled = try await runCommand("/usr/bin/env", ["cc", "-shared", "-fPIC", "-o", library, source], directory: directory)
    guard compiled.termination.exitCode == 0 else { throw TestSupportError("cc failed: \(compiled.stderr)") }
    return library
}

/// True when a C compiler is on PATH (the fake-NVML tests need one).
let compilerAvailable: Bool = ProcessInfo.processInfo.environment["PATH", default: ""].split(separator: ":").contains {
    FileManager.default.isExecutableFile(atPath: "\($0)/cc")
}

/// True on a machine with an NVIDIA driver (the GPU-only tests run there).
let nvmlAvailable: Bool = NVML.isAvailable()
