@testable import FMAHTTPClient
import Testing

@Suite("StreamBodyState: the bounded buffer between libcurl and a stream's reader")
struct StreamBodyStateTests {
    typealias State = StreamBodyState<Int>

    @Test("chunks are buffered up to the limit, then the transfer pauses until half is read")
    func pauseAndResume() {
        var state = State(limit: 100)
        #expect(isAccept(state.write(Array(repeating: 1, count: 60))))
        #expect(isAccept(state.write(Array(repeating: 2, count: 40))))
        #expect(isPause(state.write([3])))
        #expect(state.isPaused)
        #expect(state.bufferedBytes == 100)
        // Reading 60 bytes leaves 40 <= 50: resume.
        guard case .resume(1, .success(let first?), let resume) = state.read(1) else { Issue.record("no chunk"); return }
        #expect(first.count == 60)
        #expect(resume)
        #expect(!state.isPaused)
        #expect(isAccept(state.write([3])))
        guard case .resume(2, .success(let second?), false) = state.read(2) else { Issue.record("no chunk"); return }
        #expect(second.count == 40)
    }

    @Test("a chunk larger than the limit is taken into an empty buffer")
    func oversizedChunk() {
        var state = State(limit: 10)
        #expect(isAccept(state.write(Array(repeating: 0, count: 1000))))
        #expect(isPause(state.write([1])))
    }

    @Test("a waiting reader gets the next chunk directly, then the end once, then nil")
    func waitingReader() {
        var state = State(limit: 100)
        #expect(isWait(state.read(7)))
        guard case .deliver(7, [9]) = state.write([9]) else { Issue.record("not delivered"); return }
        #expect(isWait(state.read(8)))
        guard let (reader, result) = state.finish(.success(())) else { Issue.record("reader not woken"); return }
        #expect(reader == 8)
        #expect((try? result.get()) == .some(nil))
        #expect(state.finish(.failure(HTTPClientError(.internal, "late"))) == nil)
        guard case .resume(9, .success(nil), false) = state.read(9) else { Issue.record("not the end"); return }
    }

    @Test("buffered chunks are read before a failure, which is reported once")
    func failureAfterChunks() {
        var state = State(limit: 100)
        _ = state.write([1])
        #expect(state.finish(.failure(HTTPClientError(.timeout, "slow"))) == nil)
        guard case .resume(_, .success([1]?), _) = state.read(0) else { Issue.record("chunk lost"); return }
        guard case .resume(_, .failure(let error), _) = state.read(0) else { Issue.record("no failure"); return }
        #expect(error.code == .timeout)
        guard case .resume(_, .success(nil), _) = state.read(0) else { Issue.record("not the end"); return }
    }

    @Test("cancel wakes a waiting reader, drops the buffer and aborts later writes")
    func cancel() {
        var state = State(limit: 100)
        #expect(isWait(state.read(3)))
        #expect(state.cancel(HTTPClientError(.cancelled, "gone")) == 3)
        guard case .abort = state.write([1]) else { Issue.record("write not aborted"); return }
        guard case .resume(_, .success(nil), _) = state.read(4) else { Issue.record("not the end"); return }

        var buffered = State(limit: 100)
        _ = buffered.write([1, 2])
        #expect(buffered.cancel(HTTPClientError(.cancelled, "gone")) == nil)
        #expect(buffered.bufferedBytes == 0)
        guard case .resume(_, .failure(let error), _) = buffered.read(5) else { Issue.record("no failure"); return }
        #expect(error.code == .cancelled)
    }

    @Test("a second concurrent reader is refused")
    func twoReaders() {
        var state = State(limit: 100)
        #expect(isWait(state.read(1)))
        guard case .resume(2, .failure(let error), false) = state.read(2) else { Issue.record("second reader accepted"); return }
        #expect(error.code == .invalidRequest)
    }

    private func isAccept(_ action: State.WriteAction) -> Bool { if case .accept = action { true } else { false } }
    private func isPause(_ action: State.WriteAction) -> Bool { if case .pause = action { true } else { false } }
    private func isWait(_ action: State.ReadAction) -> Bool { if case .wait = action { true } else { false } }
}
