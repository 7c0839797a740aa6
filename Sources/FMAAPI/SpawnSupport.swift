#if canImport(Glibc)
import Glibc
#endif

/// What every fma component that starts programs with posix_spawn needs from Swift: the
/// program's path found on PATH, and C arrays of strings (argv, envp).
public enum SpawnSupport {
    /// `program` found on PATH (unchanged when it has a slash or is not found).
    public static func resolve(_ program: String) -> String {
        guard !program.contains("/") else { return program }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return program
    }

    /// Calls `body` with a NULL-terminated C array of the strings (freed afterwards).
    public static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
