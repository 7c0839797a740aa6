import FMAAPI
import FMARPC
import FMATestSupport
import FMAWire
import Foundation
import Testing

/// Creates cut short by a launcher crash: no instance process may run on unknown to the
/// restarted launcher.
@Suite("fma-launcher: crash-consistent creation", .serialized)
struct LauncherCrashConsistencyTests {
    /// A process whose standard output is an instance log of the launcher under test.
    struct LogWriter: CustomStringConvertible {
        var pid: Int32
        var id: String
        var session: Int32
        var description: String { "\(id)(pid \(pid), session \(session))" }
    }

    @Test("create bursts cut by SIGKILL at random points: every instance process is then listed or stopped, no port stays held")
    func burstsCutBySIGKILL() async throws {
        try await withLauncher(["--grace-period", "2"]) { launcher, _ in
            for round in 0..<5 {
                var ports: [String: Int] = [:]
                for index in 0..<12 { ports["r\(round)-\(index)"] = try freePort() }
                let client = launcher.client()
                let requested = ports
                let burst = Task {
                    await withTaskGroup(of: Void.self) { group in
                        for (id, port) in requested {
                            group.addTask { _ = try? await client.create(.fake(id: id, port: port)) }
                        }
                    }
                }
                // The crash point: anywhere from before the first fork to after the last.
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...200)))
                try await launcher.killAndRestart()
                await burst.value
                await client.rpc.close()

                let fresh = launcher.client()
                defer { Task { await fresh.rpc.close() } }
                var strays: [LogWriter] = []
                var running: [String: Int32] = [:]
                let deadline = ContinuousClock.now + .seconds(30)
                repeat {
                    let listed = try await fresh.list().instances
                    running = Dictionary(listed.filter { $0.status == .running }.map { ($0.id, $0.pid) }, uniquingKeysWith: { first, _ in first })
                    strays = Self.logWriters(launcher.stateDirectory + "/logs").filter { running[$0.id] != $0.session }
                    if strays.isEmpty { break }
                    try await Task.sleep(for: .milliseconds(50))
                } while ContinuousClock.now < deadline
                #expect(strays.isEmpty, "round \(round): processes neither listed nor stopped: \(strays)")
                for (id, port) in ports where running[id] == nil {
                    try await waitUntil(timeout: .seconds(15), "port \(port) of the unlisted \(id) to be free") { Self.canBind(port) }
                }
                _ = try await fresh.deleteAll(gracePeriodSeconds: 1)
            }
        }
    }

    static func logWriters(_ directory: String) -> [LogWriter] {
        let prefix = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path + "/"
        var writers: [LogWriter] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), isAlive(pid),
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/1"),
                  target.hasPrefix(prefix),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 3, let session = Int32(fields[3]) else { continue }
            let name = target.dropFirst(prefix.count).split(separator: " ").first.map(String.init) ?? ""
            writers.append(LogWriter(pid: pid, id: String(name.dropLast(".log".count)), session: session))
        }
        return writers
    }

    static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // As a server would bind it: connections left in TIME_WAIT do not count, a listener does.
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
