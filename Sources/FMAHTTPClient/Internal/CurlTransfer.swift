import CFMACurl
import NIOConcurrencyHelpers

/// One request on one curl easy handle: its options, the memory libcurl points into (header
/// list, error buffer), the C callbacks that feed the delegate, and a lifecycle that makes
/// completion happen exactly once.
///
/// Threads: the handle is configured on the caller's thread before `start`; from then on the
/// handle, the head parser and the callbacks belong to the client's curl thread, which also
/// frees the handle (`finish`, `releaseHandle`). A transfer that never reached that thread frees
/// its handle in `deinit`. The lifecycle is behind a lock.
final class CurlTransfer: @unchecked Sendable {
    /// "GET https://host/path", for messages.
    let label: String
    /// The easy handle (`CURL *`); `nil` once freed.
    private(set) var handle: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let delegate: any CurlTransferDelegate
    private let loop: CurlEventLoop
    private var headParser = ResponseHeadParser()
    /// Why the write callback stopped the transfer, when it did.
    private var abortError: HTTPClientError?
    /// The body limit given to libcurl (CURLOPT_MAXFILESIZE_LARGE), for its error message.
    private var bodyLimit: Int?
    private let lifecycle = NIOLockedValueBox(Lifecycle.created)

    private enum Lifecycle {
        case created
        case submitted
        case completed
    }

    init(label: String, delegate: any CurlTransferDelegate, loop: CurlEventLoop) {
        self.label = label
        self.delegate = delegate
        self.loop = loop
        handle = curl_easy_init()
        errorBuffer = .allocate(capacity: Int(FMA_CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(FMA_CURL_ERROR_SIZE))
    }

    deinit {
        releaseHandle()
        errorBuffer.deallocate()
    }

    // MARK: - Any thread

    /// Hands the transfer to the curl thread, or completes it at once if it was cancelled
    /// first or the client is shut down. Call once, after `configure`.
    func start() {
        // Queued under the lock: a `cancel` that sees `.submitted` queues its command after this one.
        let refusal = lifecycle.withLockedValue { state -> HTTPClientError? in
            guard state == .created else { return nil }
            state = .submitted
            return loop.submit(.add(self))
        }
        if let refusal { complete(.failure(refusal)) }
    }

    /// Ends the transfer with `error` unless it already ended: at once if it never started,
    /// else on the curl thread, which removes it from the multi handle.
    func cancel(_ error: HTTPClientError) {
        enum Action { case completeNow, tellLoop, nothing }
        let action = lifecycle.withLockedValue { state -> Action in
            switch state {
            case .created:
                state = .completed
                return .completeNow
            case .submitted:
                return .tellLoop
            case .completed:
                return .nothing
            }
        }
        switch action {
        case .completeNow: delegate.didComplete(.failure(error))
        case .tellLoop: _ = loop.submit(.cancel(self, error))
        case .nothing: break
        }
    }

    /// Asks the curl thread to resume the transfer if it is paused.
    func requestResume() {
        _ = loop.submit(.resume(self))
    }

    /// Completes the transfer with `result` unless it already completed.
    func complete(_ result: Result<Void, HTTPClientError>) {
        let first = lifecycle.withLockedValue { state -> Bool in
            guard state != .completed else { return false }
            state = .completed
            return true
        }
        if first { delegate.didComplete(result) }
    }

    // MARK: - Curl thread

    /// The transfer ended with `code` and was removed from the multi handle: free the handle
    /// and complete.
    func finish(_ code: CURLcode) {
        let result: Result<Void, HTTPClientError>
        if code == CURLE_OK {
            result = headParser.isComplete ? .success(()) : .failure(HTTPClientError(.protocol, "\(label): the server sent no response head"))
        } else if let abortError {
            result = .failure(abortError)
        } else if code == CURLE_FILESIZE_EXCEEDED, let bodyLimit {
            result = .failure(HTTPClientError(.tooLarge, "\(label): the response body is larger than the limit of \(bodyLimit) bytes", curlCode: Int(code.rawValue)))
        } else {
            result = .failure(HTTPClientError(curlCode: code, request: label, detail: String(cString: errorBuffer)))
        }
        releaseHandle()
        complete(result)
    }

    /// Resumes a paused transfer. libcurl may call the write callback before this returns.
    func resume() {
        if let handle { _ = curl_easy_pause(handle, Int32(FMA_CURLPAUSE_CONT)) }
    }

    /// Frees the easy handle and the header list. The handle must not be in a multi handle.
    func releaseHandle() {
        if let handle { curl_easy_cleanup(handle) }
        handle = nil
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
    }

    fileprivate func receiveHeaderLine(_ line: UnsafeRawBufferPointer) {
        if let head = headParser.consume(line) { delegate.didReceiveHead(head) }
    }

    fileprivate func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard headParser.isComplete else {
            abortError = HTTPClientError(.protocol, "\(label): the server sent body bytes before a response head")
            return 0
        }
        switch delegate.didReceiveBody(bytes) {
        case .accept:
            return bytes.count
        case .pause:
            return Int(FMA_CURL_WRITEFUNC_PAUSE)
        case .abort(let error):
            abortError = error
            return 0
        }
    }
}

// MARK: - Options

extension CurlTransfer {
    /// Sets every option of the easy handle from `options`. Call once, before `start`.
    func configure(_ options: TransferOptions) throws(HTTPClientError) {
        guard let handle else { throw HTTPClientError(.internal, "\(label): curl_easy_init failed") }
        try set(CURLOPT_URL, options.url, "take the URL")
        try set(CURLOPT_PROTOCOLS_STR, "http,https", "limit the protocols to HTTP and HTTPS")
        try set(CURLOPT_NOSIGNAL, 1, "run without signals")
        try check(fma_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "take an error buffer")

        let userdata = Unmanaged.passUnretained(self).toOpaque()
        try check(fma_curl_easy_setopt_write_function(handle, CURLOPT_HEADERFUNCTION) { data, size, count, userdata in
            guard let userdata else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }, "take a header callback")
        try check(fma_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, userdata), "take header callback data")
        try check(fma_curl_easy_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { data, size, count, userdata in
            guard let userdata else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
        }, "take a write callback")
        try check(fma_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, userdata), "take write callback data")

        for line in options.headerLines {
            guard let list = curl_slist_append(headerList, line) else {
                throw HTTPClientError(.internal, "\(label): out of memory for the header list")
            }
            headerList = list
        }
        try check(fma_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList), "take the headers")
        // Our headers (a bearer token) go to the server only, never to a proxy.
        try set(CURLOPT_HEADEROPT, Int(FMA_CURLHEADER_SEPARATE), "keep headers from the proxy")
        try set(CURLOPT_USERAGENT, options.userAgent, "take the user agent")

        switch options.body {
        case .none:
            if options.isHead { try set(CURLOPT_NOBODY, 1, "make a HEAD request") }
        case .bytes(let body):
            // The size first: with it, COPYPOSTFIELDS copies exactly that many bytes (any bytes).
            try check(fma_curl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "take the body size")
            if body.isEmpty {
                try set(CURLOPT_COPYPOSTFIELDS, "", "take the empty body")
            } else {
                try check(body.withUnsafeBytes { bytes in
                    fma_curl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                }, "take the body")
            }
        }
        if let method = options.customMethod { try set(CURLOPT_CUSTOMREQUEST, method, "take the method") }

        if let timeout = options.timeoutMilliseconds { try set(CURLOPT_TIMEOUT_MS, timeout, "take the timeout") }
        try set(CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeoutMilliseconds, "take the connect timeout")
        bodyLimit = options.maxBodyBytes
        if let max = options.maxBodyBytes {
            // Refuses at once a response whose Content-Length is over the limit; the write
            // callback catches the others.
            try check(fma_curl_easy_setopt_off_t(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(max)), "take the body limit")
        }
        // Notices a peer that vanished without a word (a long watch stream through a dead link).
        try set(CURLOPT_TCP_KEEPALIVE, 1, "enable TCP keepalive")
        try set(CURLOPT_TCP_KEEPIDLE, 30, "take the keepalive idle time")
        try set(CURLOPT_TCP_KEEPINTVL, 15, "take the keepalive interval")

        let http2 = options.allowHTTP2
        try set(CURLOPT_HTTP_VERSION, http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1, "take the HTTP version")
        if http2, options.url.lowercased().hasPrefix("https://") {
            // Wait for a connection being set up that may multiplex instead of opening another.
            try set(CURLOPT_PIPEWAIT, 1, "wait to multiplex")
        }

        // An empty proxy disables libcurl's own reading of the environment: ProxySettings did it.
        try set(CURLOPT_PROXY, options.proxy ?? "", "take the proxy")
        try set(CURLOPT_NOPROXY, options.noProxy, "take the no-proxy list")
        try set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1, "hide the proxy's CONNECT response")

        try configureTLS(options.tls)
    }

    private func configureTLS(_ tls: HTTPClient.TLS) throws(HTTPClientError) {
        switch tls.trustRoots {
        case nil:
            break
        case .file(let path):
            try set(CURLOPT_CAINFO, path, "take a CA file")
            try set(CURLOPT_CAPATH, nil, "drop the system CA directory")
        case .pem(let bytes):
            try set(CURLOPT_CAINFO_BLOB, blob: bytes, "take CA PEM data")
            try set(CURLOPT_CAINFO, nil, "drop the system CA bundle")
            try set(CURLOPT_CAPATH, nil, "drop the system CA directory")
        }
        switch tls.clientCertificate {
        case nil: break
        case .file(let path): try set(CURLOPT_SSLCERT, path, "take a client certificate file")
        case .pem(let bytes): try set(CURLOPT_SSLCERT_BLOB, blob: bytes, "take client certificate PEM data")
        }
        switch tls.clientKey {
        case nil: break
        case .file(let path): try set(CURLOPT_SSLKEY, path, "take a client key file")
        case .pem(let bytes): try set(CURLOPT_SSLKEY_BLOB, blob: bytes, "take client key PEM data")
        }
        if tls.clientCertificate != nil {
            try set(CURLOPT_SSLCERTTYPE, "PEM", "take the client certificate type")
            try set(CURLOPT_SSLKEYTYPE, "PEM", "take the client key type")
        }
        if tls.insecureSkipVerify {
            try set(CURLOPT_SSL_VERIFYPEER, 0, "skip certificate verification")
            try set(CURLOPT_SSL_VERIFYHOST, 0, "skip host name verification")
        }
    }

    private func check(_ code: CURLcode, _ what: String) throws(HTTPClientError) {
        guard code == CURLE_OK else { throw HTTPClientError(setup: code, request: label, what: what) }
    }

    private func set(_ option: CURLoption, _ value: Int, _ what: String) throws(HTTPClientError) {
        try check(fma_curl_easy_setopt_long(handle, option, value), what)
    }

    private func set(_ option: CURLoption, _ value: String?, _ what: String) throws(HTTPClientError) {
        try check(fma_curl_easy_setopt_string(handle, option, value), what)
    }

    private func set(_ option: CURLoption, blob: [UInt8], _ what: String) throws(HTTPClientError) {
        try check(blob.withUnsafeBytes { fma_curl_easy_setopt_blob(handle, option, $0.baseAddress, $0.count) }, what)
    }
}
