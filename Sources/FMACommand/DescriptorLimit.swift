import Foundation

/// The open-file limit of a service. Servers hold a descriptor per connection, per listener and
/// per child, and a Swift process that runs out crashes rather than fails a call (the runtime's
/// thread pool monitor cannot open /proc), so every service starts by raising its soft limit to
/// the hard one, as Go programs do.
public enum DescriptorLimit {
    /// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the limit now in force.
    @discardableResult
    public static func raiseToHard() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return Int(clamping: raised.rlim_cur) }
        }
        return Int(clamping: limit.rlim_cur)
    }
}
