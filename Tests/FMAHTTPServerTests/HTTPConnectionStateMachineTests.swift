@testable import FMAHTTPServer
import Testing

/// The connection lifecycle on graceful shutdown, transition by transition.
@Suite("HTTP connection state machine")
struct HTTPConnectionStateMachineTests {
    @Test("an idle connection closes at once on shutdown")
    func idle() {
        var machine = HTTPConnectionStateMachine()
        #expect(machine.shutdown() == .close)
        #expect(machine.state == .closed)
        #expect(machine.shutdown() == .none, "a second shutdown does nothing")
    }

    @Test("a busy connection answers, then closes; keep-alive resumes reading otherwise")
    func busy() {
        var machine = HTTPConnectionStateMachine()
        machine.requestStarted()
        #expect(machine.responseEnded(keepAlive: true) == .readNextRequest)
        #expect(machine.state == .idle)
        machine.requestStarted()
        #expect(machine.shutdown() == .closeAfterResponse)
        #expect(machine.responseEnded(keepAlive: true) == .close)
        #expect(machine.state == .closed)
    }

    @Test("a stream is stopped on shutdown; one that would start after shutdown is not produced")
    func streaming() {
        var machine = HTTPConnectionStateMachine()
        machine.requestStarted()
        let produced = machine.streamStarted()
        #expect(produced)
        #expect(machine.shutdown() == .stopStream)
        #expect(machine.responseEnded(keepAlive: true) == .close)

        var late = HTTPConnectionStateMachine()
        late.requestStarted()
        #expect(late.shutdown() == .closeAfterResponse)
        let lateProduced = late.streamStarted()
        #expect(!lateProduced)
    }

    @Test("a request without keep-alive closes the connection")
    func noKeepAlive() {
        var machine = HTTPConnectionStateMachine()
        machine.requestStarted()
        #expect(machine.responseEnded(keepAlive: false) == .close)
        #expect(machine.shutdown() == .none)
    }
}
