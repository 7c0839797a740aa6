public import FMAWire
import Foundation

extension Fma_V1_PreloadGap {
    /// "12 modules in 84.2 ms; slowest: scipy.stats 61.0 ms, yaml 9.3 ms", for logs and fmactl.
    public var summary: String {
        let slowest = self.slowest.map { "\($0.module) \(Self.milliseconds($0.seconds))" }.joined(separator: ", ")
        return "\(modules) modules in \(Self.milliseconds(seconds))" + (slowest.isEmpty ? "" : "; slowest: \(slowest)")
    }

    private static func milliseconds(_ seconds: Double) -> String {
        String(format: "%.1f ms", seconds * 1000)
    }
}
