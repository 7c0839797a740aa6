import Foundation

/// What the launcher reads of a process in /proc/PID/stat: its state, process group, session
/// and start time (which tells a process apart from a later one that got the same pid).
struct ProcessStat: Equatable {
    var state: Character
    var processGroup: Int32
    var session: Int32
    /// Field 22: clock ticks after boot.
    var startTicks: UInt64

    /// A zombie or a dead process no longer runs.
    var isRunning: Bool { state != "Z" && state != "X" }

    /// nil when the process is gone.
    init?(pid: Int32) {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // The command name (field 2) is in parentheses and may hold spaces: count from its end.
        // fields[0] is field 3 (state), so field 5 (pgrp) is fields[2], 6 (session) fields[3]
        // and 22 (starttime) fields[19].
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let group = Int32(fields[2]), let session = Int32(fields[3]),
              let ticks = UInt64(fields[19]) else { return nil }
        self.state = state
        self.processGroup = group
        self.session = session
        self.startTicks = ticks
    }
}

enum ProcessStartTime {
    /// The process's start time in clock ticks after boot, or nil when it is gone.
    static func ticks(of pid: Int32) -> UInt64? {
        ProcessStat(pid: pid)?.startTicks
    }

    /// True when the process exists and is not a zombie.
    static func isRunning(_ pid: Int32) -> Bool {
        ProcessStat(pid: pid)?.isRunning ?? false
    }
}
