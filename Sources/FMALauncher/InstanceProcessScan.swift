import Foundation

/// A process writing to one of this launcher's instance logs: its standard output (or, for a
/// process that moved its output, its standard error) is STATE/logs/ID.log. Every instance
/// process has that marker from its first moments (the zygote's child and an exec-mode child
/// both redirect there before running the server), and so does everything it starts, so a
/// restarted launcher finds all the processes its predecessor made, recorded in the journal or
/// not, and a stopped instance's daemons are found too.
struct InstanceProcess: Sendable, Equatable {
    var pid: Int32
    /// The instance id its log is named after.
    var id: String
    var processGroup: Int32
    var session: Int32
    var startTicks: UInt64

    /// The instance's own process (each instance runs in a session of its own).
    var isSessionLeader: Bool { session == pid }
}

enum InstanceProcessScan {
    /// The live (not zombie) processes whose standard output or error is a log in `logDirectory`.
    static func scan(logDirectory: String) -> [InstanceProcess] {
        let directory = URL(fileURLWithPath: logDirectory).resolvingSymlinksInPath().path + "/"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let me = getpid()
        var found: [InstanceProcess] = []
        for entry in entries {
            guard let pid = Int32(entry), pid != me,
                  let target = [1, 2].lazy.compactMap({ try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") })
                      .first(where: { $0.hasPrefix(directory) }) else { continue }
            var name = String(target.dropFirst(directory.count))
            if name.hasSuffix(" (deleted)") { name.removeLast(" (deleted)".count) }
            guard name.hasSuffix(".log"), let stat = ProcessStat(pid: pid), stat.isRunning else { continue }
            name.removeLast(".log".count)
            found.append(InstanceProcess(pid: pid, id: name, processGroup: stat.processGroup, session: stat.session, startTicks: stat.startTicks))
        }
        return found.sorted { $0.pid < $1.pid }
    }
}
