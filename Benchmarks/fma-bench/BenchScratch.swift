import ArgumentParser
import CFMAProcess
import FMAKube
import Foundation

/// Scratch directories and child processes for the benchmarks.
enum BenchScratch {
    static func makeDirectory() throws -> String {
        var template = Array("/tmp/fma-bench-XXXXXX".utf8CString)
        guard let path = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ValidationError("mkdtemp failed")
        }
        return String(cString: path)
    }

    /// An executable beside this one.
    static func sibling(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/" + name
    }

    /// Starts `executable` with this process's environment, stdin from /dev/null, stdout and
    /// stderr to `log` (else this process's) and no other descriptor of this process (a
    /// benchmark holds thousands of sockets its children must not keep open).
    static func spawn(_ executable: String, _ arguments: [String], log: String? = nil) throws -> pid_t {
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = fma_spawn(executable, argv, environ, log, 0, -1, -1, &pid)
        guard result == 0 else { throw ValidationError("cannot start \(executable): \(String(cString: strerror(result)))") }
        return pid
    }

    /// SIGTERM, then wait for the exit.
    static func stop(_ pid: pid_t) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// Waits for `path` to exist; fails at once when `process` (if given) has exited.
    static func waitForFile(_ path: String, what: String, seconds: Int, process: pid_t? = nil) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if FileManager.default.fileExists(atPath: path) { return }
            if let process, waitpid(process, nil, WNOHANG) == process {
                throw ValidationError("\(what) exited before writing its ready file \(path)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ValidationError("\(what) did not write its ready file \(path) within \(seconds) s")
    }

    /// VmRSS of a process, in KiB (0 when unknown).
    static func residentKiB(_ pid: pid_t) -> Int {
        statusKiB(pid, "VmRSS:")
    }

    /// VmHWM (the peak resident set) of a process, in KiB (0 when unknown).
    static func peakResidentKiB(_ pid: pid_t) -> Int {
        statusKiB(pid, "VmHWM:")
    }

    /// User and system CPU seconds a process has used (0 when unknown).
    static func cpuSeconds(_ pid: pid_t) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        // Fields after the command: state is field 3, utime 14 and stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func statusKiB(_ pid: pid_t, _ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field) {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}

extension KubeClient {
    /// A client of the cluster whose kubeconfig is at `kubeconfig`, with client-side rate
    /// limits at `qps` (and as much burst), so that the benchmark measures the server.
    static func unthrottled(kubeconfig: String, qps: Double = 1_000_000) throws -> KubeClient {
        var options = KubeClient.Options()
        options.qps = qps
        options.burst = Int(qps)
        return KubeClient(config: try KubeConfig.load(kubeconfig: kubeconfig), options: options)
    }
}
