import ArgumentParser
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

    static func spawn(_ executable: String, _ arguments: [String]) throws -> pid_t {
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, nil, nil, argv, environ)
        guard result == 0 else { throw ValidationError("cannot start \(executable): \(String(cString: strerror(result)))") }
        return pid
    }

    /// SIGTERM, then wait for the exit.
    static func stop(_ pid: pid_t) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    static func waitForFile(_ path: String, what: String, seconds: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if FileManager.default.fileExists(atPath: path) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ValidationError("\(what) did not write its ready file \(path) within \(seconds) s")
    }

    /// VmRSS of a process, in KiB (0 when unknown).
    static func residentKiB(_ pid: pid_t) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}
