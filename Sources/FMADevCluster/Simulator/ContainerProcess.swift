import FMAAPI
import CFMAProcess
import Foundation

/// A container's process: started as the leader of its own session and process group (so a
/// signal reaches everything it started), stdout and stderr appended to its log file, killed by
/// the kernel when fma-devcluster dies (forked on `SpawnerThread` with a parent-death signal),
/// and its exit seen at once by a thread blocked in `waitpid` on it.
enum ContainerProcess {
    struct SpawnError: Error, CustomStringConvertible {
        var executable: String
        var errno: Int32
        var description: String { "cannot start \(executable): \(String(cString: strerror(errno)))" }
    }

    /// Starts `executable`; returns its pid (also its process group id).
    static func spawn(executable: String, arguments: [String], environment: [String: String], logPath: String) throws(SpawnError) -> Int32 {
        let argv = [executable] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let result = SpawnerThread.shared.run {
            SpawnSupport.withCStrings(argv) { argvPointer in
                SpawnSupport.withCStrings(envp) { envPointer in
                    fma_spawn_dying_with_parent(executable, argvPointer, envPointer, logPath, &pid)
                }
            }
        }
        guard result == 0 else { throw SpawnError(executable: executable, errno: result) }
        return pid
    }

    /// Calls `onExit(waitStatus)` from a dedicated thread when `pid` (a child of this process)
    /// exits. If another reaper in this process collects it first, the exit is still reported
    /// (seen through a pidfd) with status `-1`.
    static func watchExit(pid: Int32, onExit: @escaping @Sendable (Int32) -> Void) {
        let thread = Thread {
            var status: Int32 = 0
            while true {
                let result = waitpid(pid, &status, 0)
                if result == pid { break }
                if result < 0, errno == EINTR { continue }
                // ECHILD: someone else reaps it; wait for the exit through a pidfd instead.
                let fd = fma_pidfd_open(pid)
                if fd >= 0 {
                    var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    while poll(&descriptor, 1, -1) < 0, errno == EINTR {}
                    close(fd)
                }
                status = -1
                break
            }
            onExit(status)
        }
        thread.name = "fma-pod-\(pid)"
        thread.start()
    }

    /// Sends `signal` to the process group `pid` leads.
    static func signalGroup(_ pid: Int32, _ signal: Int32) {
        kill(-pid, signal)
    }

    /// The variable that marks every process a container starts, even one that leaves its
    /// process group and session (a launcher's vLLM instances do): its value is the scope.
    static let scopeVariable = "FMA_DEVCLUSTER_CONTAINER"

    /// The variable that marks every process of a cluster's containers with the cluster's
    /// state directory, so a restarted cluster finds what an earlier run left (see
    /// `killLeftovers`).
    static let clusterVariable = "FMA_DEVCLUSTER_STATE"

    /// SIGKILLs every process marked with `scope` — what a runtime does to a container's cgroup
    /// when its main process is gone or its grace period is over. Processes are found by their
    /// environment in /proc (the marker is inherited through fork and exec).
    static func killScope(_ scope: String) {
        for pid in marked(scopeVariable, scope) { kill(pid, SIGKILL) }
    }

    /// SIGKILLs the processes an earlier run of the cluster with this state directory left
    /// behind (one killed with SIGKILL cannot stop its containers): before the simulator starts
    /// any, every process marked with the directory is such a leftover. Returns how many.
    @discardableResult
    static func killLeftovers(stateDirectory: String) -> Int {
        var killed = 0
        for pid in marked(clusterVariable, stateDirectory) where kill(pid, SIGKILL) == 0 {
            killed += 1
        }
        return killed
    }

    /// The live processes (not zombies) whose environment marks them as started by the cluster
    /// of `stateDirectory` (`clusterVariable`).
    static func markedProcesses(stateDirectory: String) -> [Int32] {
        marked(clusterVariable, stateDirectory)
    }

    /// The live processes (not zombies) whose environment holds `variable=value`.
    private static func marked(_ variable: String, _ value: String) -> [Int32] {
        let marker = Array("\(variable)=\(value)".utf8)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let me = getpid()
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != me, pid > 1,
                  let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ"),
                  !isZombie(entry) else { return nil }
            // Variables are NUL-separated; match one whole "NAME=VALUE".
            return environ.split(separator: 0, omittingEmptySubsequences: true).contains { $0.elementsEqual(marker) } ? pid : nil
        }
    }

    /// Whether /proc/PID/stat says the process has exited and waits to be reaped.
    private static func isZombie(_ pid: String) -> Bool {
        guard let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.endIndex else { return false }
        let state = stat[close + 2]
        return state == UInt8(ascii: "Z") || state == UInt8(ascii: "X")
    }
}
