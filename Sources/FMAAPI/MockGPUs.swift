/// The GPUs of a simulated node: every fma component derives the same UUIDs from the node name,
/// so the GPU inventory's `--mock`, the launcher's `--mock-gpus` and the one-machine cluster agree.
public enum MockGPUs {
    /// The UUID of mock GPU `index` on `node`, in NVIDIA's format
    /// `GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    ///
    /// Derivation (stable across versions; other tools may reproduce it): the 32 hex digits are
    /// mix(FNV-1a-64 of the UTF-8 text `fma-mock-gpu:NODE:INDEX`), then mix(FNV-1a-64 of
    /// `fma-mock-gpu:NODE:INDEX:2`), each written as 16 lower-case hex digits, split 8-4-4-4-12;
    /// mix is splitmix64's finalizer (x ^= x >> 30; x *= 0xbf58476d1ce4e5b9; x ^= x >> 27;
    /// x *= 0x94d049bb133111eb; x ^= x >> 31), so neighbouring GPUs do not look alike.
    public static func uuid(node: String, index: Int) -> String {
        let key = "fma-mock-gpu:\(node):\(index)"
        let hex = hex16(mix(fnv1a64(key))) + hex16(mix(fnv1a64(key + ":2")))
        let characters = Array(hex)
        func part(_ range: Range<Int>) -> String { String(characters[range]) }
        return "GPU-\(part(0..<8))-\(part(8..<12))-\(part(12..<16))-\(part(16..<20))-\(part(20..<32))"
    }

    /// The UUIDs of GPUs 0..<count on `node`.
    public static func uuids(node: String, count: Int) -> [String] {
        (0..<count).map { uuid(node: node, index: $0) }
    }

    static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 30
        x = x &* 0xbf58_476d_1ce4_e5b9
        x ^= x >> 27
        x = x &* 0x94d0_49bb_1331_11eb
        x ^= x >> 31
        return x
    }

    private static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
