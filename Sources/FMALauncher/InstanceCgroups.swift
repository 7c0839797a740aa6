import Foundation
import Logging

/// One cgroup per instance, where this launcher may create cgroups (a delegated cgroup v2
/// subtree, or the v1 `pids` hierarchy): every process an instance starts stays in its cgroup,
/// whatever it does (a daemon that sets up a new session and sends its output to /dev/null
/// included), so stopping an instance kills its cgroup. Where no hierarchy is writable,
/// `discover` answers nil and the launcher finds leftovers by their output (`InstanceProcessScan`).
///
/// The groups live under `fma-launcher-HASH` (a hash of the state directory) in the launcher's
/// own cgroup, so a restarted launcher with the same state directory finds its predecessor's.
struct InstanceCgroups: Sendable {
    /// The directory holding one cgroup per instance.
    let root: String
    /// "cgroup2" or "pids" (v1).
    let kind: String

    /// The hierarchy to use, created if needed; nil when none is writable.
    static func discover(stateDirectory: String, logger: Logger) -> InstanceCgroups? {
        let name = "fma-launcher-" + hash(URL(fileURLWithPath: stateDirectory).resolvingSymlinksInPath().path)
        for (kind, base) in candidates() {
            let root = "\(base)/\(name)"
            if mkdir(root, 0o755) == 0 || errno == EEXIST, access(root + "/cgroup.procs", W_OK) == 0 {
                removeStale(in: base, keeping: root)
                logger.info("instances get a cgroup each", metadata: ["cgroup_root": "\(root)", "hierarchy": "\(kind)"])
                return InstanceCgroups(root: root, kind: kind)
            }
        }
        logger.info("no writable cgroup hierarchy: an instance's leftover processes are found by their output only")
        return nil
    }

    /// Whether this process could give instances cgroups (for tests): a candidate hierarchy
    /// where a directory can be made and removed.
    static func writableHierarchy() -> Bool {
        for (_, base) in candidates() {
            let probe = "\(base)/fma-probe-\(getpid())"
            if mkdir(probe, 0o755) == 0 {
                rmdir(probe)
                return true
            }
        }
        return false
    }

    /// The launcher's own cgroup in each mounted hierarchy that can hold instances: cgroup v2
    /// first, then v1 `pids`.
    private static func candidates() -> [(String, String)] {
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
              let mounts = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        var ownPath: [String: String] = [:]  // "" for v2, else the v1 controller list
        for line in membership.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            ownPath[String(fields[1])] = String(fields[2])
        }
        var found: [(String, String)] = []
        for line in mounts.split(separator: "\n") {
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - FSTYPE SOURCE SUPEROPTIONS
            let parts = line.split(separator: " ")
            guard let dash = parts.firstIndex(of: "-"), dash + 3 < parts.count || dash + 2 < parts.count, parts.count > 4 else { continue }
            let mountPoint = String(parts[4])
            let fsType = parts[dash + 1]
            let superOptions = dash + 3 < parts.count ? parts[dash + 3].split(separator: ",").map(String.init) : []
            if fsType == "cgroup2", let path = ownPath[""] {
                found.insert(("cgroup2", mountPoint + (path == "/" ? "" : path)), at: 0)
            } else if fsType == "cgroup", superOptions.contains("pids"),
                      let path = ownPath.first(where: { $0.key.split(separator: ",").contains("pids") })?.value {
                found.append(("pids", mountPoint + (path == "/" ? "" : path)))
            }
        }
        return found
    }

    private static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        return String(value, radix: 16)
    }

    func path(_ id: String) -> String {
        "\(root)/\(id)"
    }

    /// Creates the instance's cgroup (and the launcher's, should another launcher have removed
    /// it while empty); its path, or nil when it cannot be made.
    func create(_ id: String) -> String? {
        let path = path(id)
        _ = mkdir(root, 0o755)
        return mkdir(path, 0o755) == 0 || errno == EEXIST ? path : nil
    }

    /// Other launchers' cgroups left empty (their instances were killed after their launcher
    /// stopped, or their launcher was killed): each empty one untouched for a minute is
    /// removed. A live launcher's empty directory may go too; it makes it again at its next
    /// create.
    private static func removeStale(in base: String, keeping own: String) {
        let manager = FileManager.default
        let cutoff = Date().addingTimeInterval(-60)
        func stale(_ path: String) -> Bool {
            guard let modified = (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return false }
            let procs = (try? String(contentsOfFile: path + "/cgroup.procs", encoding: .utf8)) ?? "x"
            return modified < cutoff && procs.isEmpty
        }
        for name in (try? manager.contentsOfDirectory(atPath: base)) ?? [] where name.hasPrefix("fma-launcher-") {
            let root = "\(base)/\(name)"
            guard root != own else { continue }
            for group in (try? manager.contentsOfDirectory(atPath: root)) ?? [] where stale("\(root)/\(group)") {
                rmdir("\(root)/\(group)")
            }
            if stale(root) { rmdir(root) }
        }
    }

    /// The pids in the instance's cgroup.
    func members(_ id: String) -> [Int32] {
        guard let text = try? String(contentsOfFile: path(id) + "/cgroup.procs", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { Int32($0) }
    }

    /// SIGKILL to every process in the instance's cgroup; how many there were.
    @discardableResult
    func kill(_ id: String) -> Int {
        let members = members(id)
        for pid in members { Glibc.kill(pid, SIGKILL) }
        return members.count
    }

    /// Removes the instance's cgroup once it is empty (killed processes leave it as they exit).
    func remove(_ id: String) {
        rmdir(path(id))
    }

    /// Removes the launcher's own directory when no instance's cgroup is left in it.
    func removeRootIfEmpty() {
        rmdir(root)
    }

    /// The instance ids that have a cgroup here (a previous launcher's included).
    func ids() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: "\(root)/\(name)", isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }
}
