import FMAHTTPServer
import FMAJSON
import FMAKubeModel
import Foundation
import NIOCore

/// `pods/NAME/log`: a container's output, whole or its last lines, or followed as it grows
/// (`kubectl logs [-f] [--tail N] [-c CONTAINER] [--previous]`).
extension KubeAPI {
    /// How often a followed log is checked for new output.
    static let logFollowInterval: Duration = .milliseconds(200)

    func podLog(namespace: String, name: String, _ request: HTTPRequest) throws(KubeStatus) -> HTTPResponse {
        guard request.method == .GET || request.method == .HEAD else { throw .methodNotAllowed(request.method.rawValue, "pods/log") }
        let pod = try store.get(.pod, namespace: namespace, name: name)
        let containers = (pod[path: ["spec", "containers"]]?.array ?? []).compactMap { $0["name"]?.string }
        let container: String
        if let asked = request.query["container"], !asked.isEmpty {
            guard containers.contains(asked) else {
                throw .badRequest("container \(asked) is not valid for pod \(name)")
            }
            container = asked
        } else if containers.count == 1 {
            container = containers[0]
        } else {
            throw .badRequest("a container name must be specified for pod \(name), choose one of: [\(containers.joined(separator: " "))]")
        }
        let follow = try ListOptions.flag(request.query, "follow")
        let previous = try ListOptions.flag(request.query, "previous")
        let tailLines = try Self.nonNegative(request.query, "tailLines")
        let limitBytes = try Self.nonNegative(request.query, "limitBytes")
        if previous, !Self.hasPreviousRun(container, in: pod) {
            throw .badRequest("previous terminated container \"\(container)\" in pod \"\(name)\" not found")
        }
        // A container that started without a log file (a simulated one) has written nothing.
        let current = logSource.path(namespace: namespace, pod: name, container: container)
        let path = (previous ? current.map(PodLogSource.previousPath(of:)) : current)
            .flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil } ?? ""
        if path.isEmpty, !previous, !Self.hasStarted(container, in: pod) {
            throw .badRequest("container \"\(container)\" in pod \"\(name)\" is waiting to start: it has no log yet")
        }
        let start = Self.startOffset(path: path, tailLines: tailLines)
        if !follow {
            let text = Self.read(path: path, from: start, limit: limitBytes.map(Int.init) ?? Int.max)
            return HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain"], body: .bytes(ByteBuffer(bytes: text)))
        }
        let store = self.store
        return .stream(contentType: "text/plain") { writer in
            var offset = start
            var remaining = limitBytes.map(Int.init) ?? Int.max
            while remaining > 0 {
                let chunk = Self.read(path: path, from: offset, limit: min(remaining, 1 << 16))
                if !chunk.isEmpty {
                    try await writer.write(ByteBuffer(bytes: chunk))
                    offset += UInt64(chunk.count)
                    remaining -= chunk.count
                    continue
                }
                // Follow until the pod is gone (or the client leaves).
                guard (try? store.get(.pod, namespace: namespace, name: name)) != nil else { return }
                try await Task.sleep(for: Self.logFollowInterval)
            }
        }
    }

    /// Whether the container's status has a `lastState.terminated`: a run before the current one.
    static func hasPreviousRun(_ container: String, in pod: JSONObject) -> Bool {
        let statuses = pod[path: ["status", "containerStatuses"]]?.array ?? []
        return statuses.first(where: { $0["name"]?.string == container })?[path: ["lastState", "terminated"]]?.object != nil
    }

    /// Whether the pod's status shows the container running or terminated.
    static func hasStarted(_ container: String, in pod: JSONObject) -> Bool {
        let statuses = pod[path: ["status", "containerStatuses"]]?.array ?? []
        guard let status = statuses.first(where: { $0["name"]?.string == container }) else { return false }
        return status[path: ["state", "running"]] != nil || status[path: ["state", "terminated"]] != nil
    }

    private static func nonNegative(_ query: [String: String], _ name: String) throws(KubeStatus) -> Int64? {
        guard let text = query[name], !text.isEmpty else { return nil }
        guard let value = Int64(text), value >= 0 else { throw .badRequest("\(name) must be a non-negative integer, got \"\(text)\"") }
        return value
    }

    /// Where the last `tailLines` lines of the file start (0 without a tail). Only the last
    /// `window` bytes are searched: a tail longer than that starts at the window.
    static func startOffset(path: String, tailLines: Int64?, window: Int = 64 << 20) -> UInt64 {
        guard let tailLines else { return 0 }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0
        let base = size > UInt64(window) ? size - UInt64(window) : 0
        let bytes = read(path: path, from: base, limit: window)
        var newlines: Int64 = 0
        var index = bytes.count
        if bytes.last == UInt8(ascii: "\n") { index -= 1 }
        while index > 0 {
            if bytes[index - 1] == UInt8(ascii: "\n") {
                newlines += 1
                if newlines == tailLines { return base + UInt64(index) }
            }
            index -= 1
        }
        return base + (tailLines == 0 ? UInt64(bytes.count) : 0)
    }

    /// Up to `limit` bytes of the file from `offset` (empty when there are none or it cannot be read).
    static func read(path: String, from offset: UInt64, limit: Int) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: offset)
            return Array(try handle.read(upToCount: limit) ?? Data())
        } catch {
            return []
        }
    }
}
