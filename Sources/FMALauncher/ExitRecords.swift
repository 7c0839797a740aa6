import Foundation

/// Exit statuses that the supervisor (`fma-launcher supervise`) wrote for instances it reaped
/// while no launcher ran: `<state>/exits/<pid>.json`, `{"pid": P, "status": S}` with S the raw
/// `waitpid` status. A re-started launcher reads them to report those exits with their codes.
public struct ExitRecords: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    struct Entry: Codable {
        var pid: Int32
        var status: Int32
    }

    /// Records a reaped orphan's status (the supervisor calls this).
    public func record(pid: Int32, status: Int32) {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard let data = try? JSONEncoder().encode(Entry(pid: pid, status: status)) else { return }
        let path = "\(directory)/\(pid).json"
        try? data.write(to: URL(fileURLWithPath: path + ".tmp"))
        rename(path + ".tmp", path)
    }

    /// The recorded exit of `pid`, removed once read.
    func take(pid: Int32) -> ExitRecord? {
        let path = "\(directory)/\(pid).json"
        guard let data = FileManager.default.contents(atPath: path),
              let entry = try? JSONDecoder().decode(Entry.self, from: data) else { return nil }
        try? FileManager.default.removeItem(atPath: path)
        return ExitRecord(waitStatus: entry.status)
    }
}
