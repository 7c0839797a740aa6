import FMARPC
import Foundation

/// Who this process runs as, for defaults.
enum HostIdentity {
    /// `given`, else $NODE_NAME, else the host name.
    static func nodeName(_ given: String?) -> String {
        if let given, !given.isEmpty { return given }
        if let fromEnvironment = ProcessInfo.processInfo.environment["NODE_NAME"], !fromEnvironment.isEmpty { return fromEnvironment }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The directories of Unix-socket listeners, made before listening.
enum SocketDirectories {
    /// Creates the directory of every `unix:PATH` address that lacks one (mode 0755).
    static func create(for addresses: [String]) throws {
        for text in addresses {
            guard case .unix(let path)? = try? RPCAddress(parsing: text) else { continue }
            let directory = (path as NSString).deletingLastPathComponent
            guard !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) else { continue }
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
            } catch {
                throw CommandFailure("cannot create the directory \(directory) for \(text): \(error.localizedDescription)")
            }
        }
    }
}

/// A failure that ends the command with status 1, its message printed by ArgumentParser.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
