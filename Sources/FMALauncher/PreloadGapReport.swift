import FMAWire
import Foundation
import SwiftProtobuf

/// The report a forked instance writes beside its log (the zygote's `preload_gap.py`): the
/// modules it imported after the fork, in the JSON form of `fma.v1.PreloadGap`.
enum PreloadGapReport {
    /// STATE/logs/ID.imports.json for the log STATE/logs/ID.log.
    static func path(forLog logPath: String) -> String {
        (logPath.hasSuffix(".log") ? String(logPath.dropLast(".log".count)) : logPath) + ".imports.json"
    }

    /// The report, or nil when there is none (an exec-mode instance) or it does not parse.
    static func read(forLog logPath: String) -> Fma_V1_PreloadGap? {
        guard let data = FileManager.default.contents(atPath: path(forLog: logPath)) else { return nil }
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return try? Fma_V1_PreloadGap(jsonUTF8Data: data, options: options)
    }
}
