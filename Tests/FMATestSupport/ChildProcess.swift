import Foundation

/// A process started by a test: its pid, its output in files, and a bounded wait for its exit.
///
/// Uses posix_spawn directly (Foundation's Process polls every 50 ms on waiting) and always
/// ends with SIGKILL in `stop()` if the process is still there.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let stdoutPath: String
    public let stderrPath: String
    private var exitStatus: Int32?

    /// Starts `executable` with `arguments`; stdout and stderr go to files in `directory`.
    public init(_ executable: String, _ arguments: [String], directory: String, environment: [String: String] = [:], name: String? = nil) throws {
        let label = name ?? URL(fileURLWithPath: executable).lastPathComponent
        stdoutPath = "\(directory)/\(label).\(UUID().uuidString.prefix(8)).out"
        stderrPath = "\(directory)/\(label).\(UUID().uuidString.prefix(8)).err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else {
            throw TestSupportError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    /// Sends `signal` to the process.
    public func signal(_ signal: Int32) {
        if exitStatus == nil { kill(pid, signal) }
    }

    /// Waits (bounded) for the process to exit; returns its wait status decoded.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> Termination {
        if let exitStatus { return Termination(status: exitStatus) }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                exitStatus = status
                return Termination(status: status)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TestSupportError("process \(pid) did not exit within \(timeout)")
    }

    /// Kills the process (if it still runs) and reaps it. Safe to call more than once.
    public func stop() {
        guard exitStatus == nil else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        if waitpid(pid, &status, 0) == pid { exitStatus = status }
    }

    public var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Resident memory in KiB, from /proc.
    public var residentKiB: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        }
        return nil
    }

    deinit { stop() }
}

/// How a process ended.
public struct Termination: Equatable, CustomStringConvertible {
    public let status: Int32
    /// The exit code, if it exited (rather than died by a signal).
    public var exitCode: Int32? { status & 0x7f == 0 ? (status >> 8) & 0xff : nil }
    /// The signal that killed it, if one did.
    public var signal: Int32? { status & 0x7f != 0 && status & 0x7f != 0x7f ? status & 0x7f : nil }
    public var description: String {
        if let exitCode { return "exit \(exitCode)" }
        return "signal \(signal ?? -1)"
    }
}

/// Runs a command to completion (bounded) and returns its exit code and output.
public func runCommand(_ executable: String, _ arguments: [String], directory: String, environment: [String: String] = [:], timeout: Duration = .seconds(60)) async throws -> (termination: Termination, stdout: String, stderr: String) {
    let child = try ChildProcess(executable, arguments, directory: directory, environment: environment)
    defer { child.stop() }
    let termination = try await child.waitForExit(timeout: timeout)
    return (termination, child.stdout, child.stderr)
}
