import Metrics
import Synchronization

/// Whether the journal can be written: while it cannot, the launcher cannot promise to remember
/// a change across a restart, so calls that change state fail and Health says NOT_SERVING with
/// the reason. Counted in `fma_launcher_journal_write_failures_total`.
public final class JournalHealth: Sendable {
    private let failure = Mutex<String?>(nil)
    private let failures = Counter(label: "fma_launcher_journal_write_failures_total")

    public init() {}

    /// Why the launcher is not serving, or nil while the last journal write succeeded.
    public var problem: String? { failure.withLock { $0 } }

    func succeeded() {
        failure.withLock { $0 = nil }
    }

    func failed(_ reason: String) {
        failures.increment()
        failure.withLock { $0 = "the journal cannot be written: \(reason)" }
    }
}
