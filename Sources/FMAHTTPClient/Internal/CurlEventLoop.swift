import CFMACurl
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one thread that runs every transfer of a client through one curl multi handle
/// (`curl_multi_poll` + `curl_multi_perform`), started by the first transfer and stopped by
/// `shutdown`/`stop`. Other threads talk to it only through `submit`, which queues a command
/// and wakes the thread with `curl_multi_wakeup`.
///
/// Ownership: the thread holds every running transfer (so the userdata pointers its callbacks
/// get stay valid), removes each from the multi handle when it ends, frees its easy handle and
/// completes it. On stop it fails the running and queued transfers with `.shutdown`, then
/// frees the multi handle.
///
/// Locks: a transfer may hold its own lock while calling `submit`; this loop never holds its
/// lock while calling into a transfer, so the two cannot deadlock.
final class CurlEventLoop: @unchecked Sendable {
    enum Command {
        case add(CurlTransfer)
        case cancel(CurlTransfer, HTTPClientError)
        case resume(CurlTransfer)
    }

    private enum Phase {
        case idle
        case running(multi: UnsafeMutableRawPointer)
        case stopping(multi: UnsafeMutableRawPointer)
        case stopped
    }

    private struct State {
        var phase = Phase.idle
        var commands: [Command] = []
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())
    /// The running transfers by easy handle. Curl thread only.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    init() {}

    /// Queues `command` for the curl thread, starting the thread first if needed. Returns the
    /// error to complete with when the command is refused: the loop is stopping or stopped, or
    /// libcurl or the thread cannot start.
    func submit(_ command: Command) -> HTTPClientError? {
        state.withLockedValue { state -> HTTPClientError? in
            switch state.phase {
            case .idle:
                let code = fma_curl_global_init()
                guard code == CURLE_OK else {
                    return HTTPClientError(.internal, "curl_global_init failed: \(String(cString: curl_easy_strerror(code)))", curlCode: Int(code.rawValue))
                }
                guard let multi = curl_multi_init() else {
                    return HTTPClientError(.internal, "curl_multi_init failed")
                }
                guard startThread(multi) else {
                    curl_multi_cleanup(multi)
                    return HTTPClientError(.internal, "cannot start the HTTP client's thread: \(String(cString: strerror(errno)))")
                }
                state.phase = .running(multi: multi)
                state.commands.append(command)
                return nil
            case .running(let multi):
                state.commands.append(command)
                // Under the lock: the thread frees the multi handle only after taking the lock.
                curl_multi_wakeup(multi)
                return nil
            case .stopping, .stopped:
                return HTTPClientError(.shutdown, "the HTTP client is shut down")
            }
        }
    }

    /// Stops the thread and waits until it has failed every transfer and exited.
    func shutdown() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLockedValue { state -> Bool in
                switch state.phase {
                case .idle, .stopped:
                    state.phase = .stopped
                    return true
                case .running(let multi):
                    state.phase = .stopping(multi: multi)
                    state.stopWaiters.append(waiter)
                    curl_multi_wakeup(multi)
                    return false
                case .stopping:
                    state.stopWaiters.append(waiter)
                    return false
                }
            }
            if resumeNow { waiter.resume() }
        }
    }

    /// Tells the thread to stop without waiting for it.
    func stop() {
        state.withLockedValue { state in
            switch state.phase {
            case .idle:
                state.phase = .stopped
            case .running(let multi):
                state.phase = .stopping(multi: multi)
                curl_multi_wakeup(multi)
            case .stopping, .stopped:
                break
            }
        }
    }

    private func startThread(_ multi: UnsafeMutableRawPointer) -> Bool {
        let context = Unmanaged.passRetained(ThreadContext(loop: self, multi: multi)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let result = pthread_create(&thread, &attributes, { context in
            let box = Unmanaged<ThreadContext>.fromOpaque(context!).takeRetainedValue()
            box.loop.run(box.multi)
            return nil
        }, context)
        if result != 0 {
            Unmanaged<ThreadContext>.fromOpaque(context).release()
            errno = result
            return false
        }
        return true
    }

    private final class ThreadContext {
        let loop: CurlEventLoop
        let multi: UnsafeMutableRawPointer
        init(loop: CurlEventLoop, multi: UnsafeMutableRawPointer) {
            self.loop = loop
            self.multi = multi
        }
    }

    // MARK: - Curl thread

    private func run(_ multi: UnsafeMutableRawPointer) {
        let shutdownError = HTTPClientError(.shutdown, "the HTTP client was shut down")
        while true {
            let (commands, stopping) = state.withLockedValue { state -> ([Command], Bool) in
                defer { state.commands.removeAll() }
                if case .stopping = state.phase { return (state.commands, true) }
                return (state.commands, false)
            }
            for command in commands { apply(command, multi, refuseNew: stopping ? shutdownError : nil) }
            if stopping { break }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            completeFinished(multi)
            // Wakes for socket activity, libcurl's next timeout, or curl_multi_wakeup.
            curl_multi_poll(multi, nil, 0, 60_000, nil)
        }
        for (handle, transfer) in active {
            curl_multi_remove_handle(multi, handle)
            transfer.releaseHandle()
            transfer.complete(.failure(shutdownError))
        }
        active.removeAll()
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.phase = .stopped
            defer { state.stopWaiters.removeAll() }
            return state.stopWaiters
        }
        curl_multi_cleanup(multi)
        for waiter in waiters { waiter.resume() }
    }

    private func apply(_ command: Command, _ multi: UnsafeMutableRawPointer, refuseNew: HTTPClientError?) {
        switch command {
        case .add(let transfer):
            guard let handle = transfer.handle else {
                transfer.complete(.failure(HTTPClientError(.internal, "\(transfer.label): started without an easy handle")))
                return
            }
            if let refuseNew {
                transfer.releaseHandle()
                transfer.complete(.failure(refuseNew))
                return
            }
            let code = curl_multi_add_handle(multi, handle)
            guard code == CURLM_OK else {
                transfer.releaseHandle()
                transfer.complete(.failure(HTTPClientError(.internal, "\(transfer.label): curl_multi_add_handle failed: \(String(cString: curl_multi_strerror(code)))")))
                return
            }
            active[handle] = transfer
        case .cancel(let transfer, let error):
            guard let handle = transfer.handle, active.removeValue(forKey: handle) != nil else { return }
            curl_multi_remove_handle(multi, handle)
            transfer.releaseHandle()
            transfer.complete(.failure(error))
        case .resume(let transfer):
            guard let handle = transfer.handle, active[handle] != nil else { return }
            transfer.resume()
        }
    }

    /// Removes, frees and completes every transfer libcurl reports done.
    private func completeFinished(_ multi: UnsafeMutableRawPointer) {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle else { continue }
            // Read before removing: removal invalidates the message.
            let code = message.pointee.data.result
            curl_multi_remove_handle(multi, handle)
            active.removeValue(forKey: handle)?.finish(code)
        }
    }
}
