import FMAJSON
import FMAKubeModel
import Foundation

/// The store on disk, so a cluster that is killed or stopped comes back with its objects: what
/// etcd's write-ahead log and snapshots are to a real cluster.
///
/// Two files in the store's directory:
/// - `store.log`: one line per change, appended (a write, no fsync) under the store's lock
///   before the change is answered: `{"rv":N,"kind":"pods","type":"ADDED","object":{…}}`.
/// - `store.snapshot`: every object at one resource version, written when the log has grown
///   past `compactAfterBytes` (and past twice the last snapshot), to a temporary file that is
///   synced and renamed over the old one; then the log starts again empty.
///
/// A change is in the kernel's page cache once it is answered, so it survives the process being
/// killed in any way; the log is synced at most a second after a change (and at shutdown), so a
/// machine crash can lose the last second. Restoring reads the snapshot, then the log records
/// after it; a last line cut short by a crash is skipped, with a warning.
final class StoreLog: @unchecked Sendable {
    static let logName = "store.log"
    static let snapshotName = "store.snapshot"

    /// The objects a restore found, and the resource version they were at.
    struct Restored {
        var objects: [(kind: ResourceKind, object: JSONObject)] = []
        var resourceVersion: Int64 = 0
        /// Problems met on the way (a cut-short last line), for the log.
        var warnings: [String] = []
    }

    let directory: String
    let compactAfterBytes: Int
    private var fd: Int32
    private var logBytes = 0
    private var snapshotBytes = 0
    private var lastSync = ContinuousClock.now
    private var unsynced = false
    /// The first write error, reported once; later changes are kept in memory only.
    private(set) var failure: String?

    /// Opens (creating) the log in `directory` and restores what it and the snapshot hold.
    static func open(directory: String, kinds: [ResourceKind], compactAfterBytes: Int = 64 << 20) throws -> (StoreLog, Restored) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var restored = Restored()
        var state: [String: (kind: ResourceKind, object: JSONObject)] = [:]
        let byName = Dictionary(kinds.map { ($0.description, $0) }, uniquingKeysWith: { first, _ in first })
        let snapshotPath = "\(directory)/\(snapshotName)"
        var snapshotBytes = 0
        if let data = FileManager.default.contents(atPath: snapshotPath) {
            snapshotBytes = data.count
            var first = true
            try forEachLine(data, path: snapshotPath, warnings: &restored.warnings) { record in
                if first {
                    first = false
                    guard let version = record["rv"]?.int else { throw StoreLogError("\(snapshotPath): the first line names no resource version (\"rv\")") }
                    restored.resourceVersion = version
                    return
                }
                guard let (kind, object) = try entry(record, byName, path: snapshotPath) else { return }
                state[stateKey(kind, object)] = (kind, object)
            }
        }
        let logPath = "\(directory)/\(logName)"
        if let data = FileManager.default.contents(atPath: logPath) {
            try forEachLine(data, path: logPath, warnings: &restored.warnings) { record in
                guard let version = record["rv"]?.int else { throw StoreLogError("\(logPath): a record names no resource version (\"rv\")") }
                // Written before the snapshot that holds it (a crash between the two).
                guard version > restored.resourceVersion else { return }
                guard let (kind, object) = try entry(record, byName, path: logPath) else { return }
                if record["type"]?.string == WatchEventType.deleted.rawValue {
                    state[stateKey(kind, object)] = nil
                } else {
                    state[stateKey(kind, object)] = (kind, object)
                }
                restored.resourceVersion = version
            }
        }
        restored.objects = state.values.sorted { $0.object.resourceVersionNumber < $1.object.resourceVersionNumber }
        let fd = Glibc.open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreLogError("cannot open \(logPath): \(String(cString: strerror(errno)))") }
        let log = StoreLog(directory: directory, fd: fd, compactAfterBytes: compactAfterBytes)
        log.logBytes = Int(lseek(fd, 0, SEEK_END))
        log.snapshotBytes = snapshotBytes
        return (log, restored)
    }

    private init(directory: String, fd: Int32, compactAfterBytes: Int) {
        self.directory = directory
        self.fd = fd
        self.compactAfterBytes = compactAfterBytes
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Appends one change; `objectBytes` is the object's JSON text.
    func append(version: Int64, kind: ResourceKind, type: WatchEventType, objectBytes: [UInt8]) {
        guard failure == nil else { return }
        var line: [UInt8] = []
        line.reserveCapacity(objectBytes.count + 80)
        line.append(contentsOf: "{\"rv\":\(version),\"kind\":\"\(kind.description)\",\"type\":\"\(type.rawValue)\",\"object\":".utf8)
        line.append(contentsOf: objectBytes)
        line.append(contentsOf: "}\n".utf8)
        if let error = Self.writeAll(fd, line) {
            failure = "cannot append to \(directory)/\(Self.logName): \(error); later changes are kept in memory only"
            return
        }
        logBytes += line.count
        unsynced = true
        syncIfDue()
    }

    /// Whether the log has grown enough to be folded into a new snapshot.
    var wantsCompaction: Bool {
        failure == nil && logBytes > compactAfterBytes && logBytes > 2 * snapshotBytes
    }

    /// Writes every object at `version` as the new snapshot and empties the log.
    func compact(objects: some Sequence<(ResourceKind, JSONObject)>, version: Int64) {
        let snapshotPath = "\(directory)/\(Self.snapshotName)"
        let temporary = snapshotPath + ".tmp"
        var text: [UInt8] = Array("{\"rv\":\(version)}\n".utf8)
        for (kind, object) in objects {
            text.append(contentsOf: "{\"kind\":\"\(kind.description)\",\"object\":".utf8)
            text.append(contentsOf: object.serialized())
            text.append(contentsOf: "}\n".utf8)
        }
        let out = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard out >= 0 else {
            failure = "cannot write \(temporary): \(String(cString: strerror(errno))); later changes are kept in memory only"
            return
        }
        let error = Self.writeAll(out, text) ?? (fsync(out) == 0 ? nil : String(cString: strerror(errno)))
        close(out)
        if let error {
            unlink(temporary)
            failure = "cannot write \(temporary): \(error); later changes are kept in memory only"
            return
        }
        guard rename(temporary, snapshotPath) == 0 else {
            failure = "cannot rename \(temporary): \(String(cString: strerror(errno))); later changes are kept in memory only"
            return
        }
        Self.syncDirectory(directory)
        // Every record is in the snapshot now; those left by a crash before this are skipped.
        _ = ftruncate(fd, 0)
        logBytes = 0
        snapshotBytes = text.count
        unsynced = false
        lastSync = .now
    }

    /// Syncs the log when a change is waiting and a second has passed since the last sync.
    func syncIfDue() {
        guard unsynced, ContinuousClock.now - lastSync >= .seconds(1) else { return }
        sync()
    }

    /// Syncs the log to disk now.
    func sync() {
        guard unsynced, fd >= 0 else { return }
        _ = fdatasync(fd)
        unsynced = false
        lastSync = .now
    }

    // MARK: - Reading

    private static func forEachLine(_ data: Data, path: String, warnings: inout [String], _ body: (JSONObject) throws -> Void) throws {
        let bytes = [UInt8](data)
        var start = 0
        var lineNumber = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n"))
            lineNumber += 1
            let line = bytes[start..<(end ?? bytes.count)]
            start = (end ?? bytes.count) + 1
            if line.isEmpty { continue }
            guard let record = try? JSONValue(parsing: line).object else {
                guard end == nil else {
                    throw StoreLogError("\(path): line \(lineNumber) is not a JSON object; move the file away to start with an empty store")
                }
                warnings.append("\(path): the last line (\(line.count) bytes) was cut short, as a crash while writing leaves it; skipped")
                return
            }
            try body(record)
        }
    }

    private static func entry(_ record: JSONObject, _ kinds: [String: ResourceKind], path: String) throws -> (ResourceKind, JSONObject)? {
        guard let name = record["kind"]?.string, let object = record["object"]?.object else {
            throw StoreLogError("\(path): a record lacks \"kind\" or \"object\"")
        }
        // A kind this build does not serve any more: its objects are dropped.
        guard let kind = kinds[name] else { return nil }
        return (kind, object)
    }

    private static func stateKey(_ kind: ResourceKind, _ object: JSONObject) -> String {
        kind.description + " " + ObjectMeta(json: object["metadata"]?.object ?? JSONObject()).key
    }

    // MARK: - Writing

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> String? {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            written += result
        }
        return nil
    }

    private static func syncDirectory(_ path: String) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

/// A store on disk that cannot be read.
struct StoreLogError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

private extension JSONObject {
    var resourceVersionNumber: Int64 {
        self[path: ["metadata", "resourceVersion"]]?.string.flatMap { Int64($0) } ?? 0
    }
}
