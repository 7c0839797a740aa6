extension ServerCallContext {
    /// Runs a stream that may never end by itself (a watch, a log follower). When the server
    /// starts draining first, the stream is cancelled and the call ends with UNAVAILABLE naming
    /// `what`, so a client resumes against the restarted server rather than holding the drain.
    public func endingOnDrain(_ what: String, _ stream: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await stream()
                return true
            }
            group.addTask {
                await untilServerDrains()
                return false
            }
            let finished = try await group.next() ?? true
            group.cancelAll()
            if !finished {
                throw RPCError(.unavailable, "the server is shutting down; \(what) ended (resume against the restarted server)")
            }
        }
    }
}
