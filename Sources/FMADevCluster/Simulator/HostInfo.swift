import Foundation

/// What the machine the simulator runs on tells a simulated node's `status.nodeInfo`.
enum HostInfo {
    /// `uname -r`.
    static let kernelVersion: String = {
        var name = utsname()
        guard uname(&name) == 0 else { return "unknown" }
        return withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }()

    /// `PRETTY_NAME` of /etc/os-release, as a kubelet reports it.
    static let osImage: String = {
        let text = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
        return "Linux"
    }()
}
