import ArgumentParser
import CFMAProcess
import FMACommand
import FMALauncher
import Foundation

/// `fma-launcher supervise -- serve …`: the container's PID 1.
///
/// Starts the launcher server as its child and restarts it when it dies; as a child subreaper
/// it reaps every orphan (instances whose zygote or launcher died), writing each one's exit
/// status to STATE_DIR/exits so that the next launcher reports those exits with their codes.
/// SIGTERM and SIGINT are passed to the server; the supervisor exits when the server has.
struct SuperviseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervise",
        abstract: "Run as PID 1: keep the launcher server running and reap orphaned instances.",
        discussion: """
            Example (a launcher Pod's command):
              fma-launcher supervise --state-dir /var/lib/fma -- serve --state-dir /var/lib/fma --listen tcp://0.0.0.0:8001 --token-file /etc/fma/token

            A launcher crash never takes the instances down: they run on, the server restarts \
            (after --restart-delay, doubling up to 10 s while it keeps failing) and adopts them.
            """)

    @Option(help: "The server's --state-dir (exit records go to its exits/ folder).")
    var stateDir: String = "/tmp/fma-launcher"

    @Option(help: "Seconds before restarting a server that died.")
    var restartDelay = Seconds(0.5)

    @Argument(parsing: .postTerminator, help: "The server's arguments, after --, e.g. -- serve --listen unix:/run/fma/launcher.sock")
    var command: [String] = []

    func validate() throws {
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        guard !arguments.isEmpty else { throw ValidationError("give the server's arguments after --, e.g. -- serve --listen unix:/run/fma/launcher.sock") }
    }

    func run() throws {
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        if fma_set_child_subreaper() != 0 {
            FileHandle.standardError.write(Data("fma-launcher supervise: cannot become a child subreaper: \(String(cString: strerror(errno)))\n".utf8))
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let records = ExitRecords(directory: stateDir + "/exits")
        var state = SupervisorState()

        // Init-style: SIGTERM, SIGINT and SIGCHLD arrive as bytes on a pipe (whichever thread the
        // kernel picks runs the handler), so one loop waits for all three without polling.
        let stopSignals = [SIGTERM, SIGINT]
        let signalPipe = ([SIGTERM, SIGINT, SIGCHLD] as [Int32]).withUnsafeBufferPointer { fma_signal_pipe($0.baseAddress, Int32($0.count)) }
        guard signalPipe >= 0 else { throw ValidationError("cannot set up signal handling: \(String(cString: strerror(errno)))") }

        var delay = restartDelay.value
        state.server = try Self.spawn(executable, arguments)
        var started = Date()
        while true {
            var descriptor = pollfd(fd: signalPipe, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, -1)
            var received = [UInt8](repeating: 0, count: 64)
            let count = read(signalPipe, &received, received.count)
            for number in received.prefix(max(0, count)).map(Int32.init) where stopSignals.contains(number) {
                state.stopping = true
                if let server = state.server { kill(server, number) }
            }
            // Reap everything that has exited: the server, or orphans.
            while true {
                var status: Int32 = 0
                let pid = waitpid(-1, &status, WNOHANG)
                if pid <= 0 {
                    if pid < 0, errno == ECHILD, state.stopping { return }
                    break
                }
                guard pid == state.server else {
                    records.record(pid: pid, status: status)
                    continue
                }
                if state.stopping {
                    throw ExitCode(status & 0x7f == 0 ? (status >> 8) & 0xff : 0)
                }
                // Back off while the server keeps dying right after it starts.
                delay = Date().timeIntervalSince(started) > 30 ? restartDelay.value : min(max(delay * 2, restartDelay.value), 10)
                FileHandle.standardError.write(Data("fma-launcher supervise: the server (pid \(pid)) ended with status \(status); restarting in \(delay) s\n".utf8))
                Thread.sleep(forTimeInterval: delay)
                state.server = try Self.spawn(executable, arguments)
                started = Date()
            }
        }
    }

    private static func spawn(_ executable: String, _ arguments: [String]) throws -> Int32 {
        var pid: pid_t = 0
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // Same session (a terminal's Ctrl-C reaches both), default signals, empty mask.
        let result = argv.withUnsafeBufferPointer { pointer in
            fma_spawn(executable, pointer.baseAddress!, environ, nil, 0, -1, -1, &pid)
        }
        guard result == 0 else { throw ValidationError("cannot start \(executable): \(String(cString: strerror(result)))") }
        return pid
    }
}

/// The supervisor's state: the server it runs, and whether it was asked to stop.
private struct SupervisorState {
    var server: Int32?
    var stopping = false
}
