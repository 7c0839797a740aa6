import Foundation

/// A fresh directory under /tmp, removed with everything in it when the closure returns.
///
/// Paths stay short so that Unix socket paths inside fit in `sun_path` (108 bytes).
public func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    var template = Array("/tmp/fma-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let result = mkdtemp(buffer.baseAddress!) else { return nil }
        return String(cString: result)
    }
    guard let path else { throw TestSupportError("mkdtemp failed: \(String(cString: strerror(errno)))") }
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// A failure of the test harness itself (not of the code under test).
public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The repository's root, found from this file's path.
public let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Where `swift build` put the executables (the debug build unless FMA_BIN_DIR says otherwise).
public var binDirectory: String {
    if let dir = ProcessInfo.processInfo.environment["FMA_BIN_DIR"] { return dir }
    return repositoryRoot + "/.build/debug"
}

/// Tests/Golden: the golden frames every implementation decodes.
public var goldenDirectory: String { repositoryRoot + "/Tests/Golden" }

/// Waits, bounded by `timeout`, until `condition` holds; polls every few milliseconds.
public func waitUntil(timeout: Duration = .seconds(20), _ what: String, _ condition: () throws -> Bool) async throws {
    try await waitUntil(timeout: timeout, what, every: .milliseconds(10)) { () async throws -> Bool in try condition() }
}

/// Waits, bounded by `timeout`, until the asynchronous `condition` holds, asking `every` so often.
public func waitUntil(timeout: Duration = .seconds(20), _ what: String, every interval: Duration,
                      _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: interval)
    }
    throw TestSupportError("timed out after \(timeout) waiting for \(what)")
}
