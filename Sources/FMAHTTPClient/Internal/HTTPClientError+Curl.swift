import CFMACurl

extension HTTPClientError {
    /// The error for a transfer libcurl ended with `code`: the code it maps to, a message that
    /// names the request and gives libcurl's explanation (`detail`, the error buffer, when it
    /// has one; libcurl's generic text for the code otherwise).
    init(curlCode code: CURLcode, request: String, detail: String) {
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        self.init(Self.code(for: code, detail: text), "\(request): \(text)", curlCode: Int(code.rawValue))
    }

    /// The error for a libcurl call that failed while a request was being prepared.
    init(setup code: CURLcode, request: String, what: String) {
        let text = String(cString: curl_easy_strerror(code))
        let kind: Code = code == CURLE_NOT_BUILT_IN || code == CURLE_UNKNOWN_OPTION ? .configuration : .internal
        self.init(kind, "\(request): libcurl cannot \(what): \(text)", curlCode: Int(code.rawValue))
    }

    static func code(for code: CURLcode, detail: String) -> Code {
        switch code {
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_BAD_FUNCTION_ARGUMENT:
            return .invalidRequest
        case CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_PROXY:
            return .connect
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
             CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE,
             CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
             CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED:
            return .tls
        case CURLE_FILESIZE_EXCEEDED:
            return .tooLarge
        case CURLE_ABORTED_BY_CALLBACK:
            return .cancelled
        case CURLE_WEIRD_SERVER_REPLY, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_HTTP3, CURLE_BAD_CONTENT_ENCODING,
             CURLE_TOO_MANY_REDIRECTS:
            return .protocol
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR:
            // A TLS alert from the peer (e.g. "certificate required" under TLS 1.3, which
            // arrives after the handshake) surfaces as a read error; OpenSSL's text names it.
            return detail.contains("SSL routines") ? .tls : .transport
        case CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING:
            return .transport
        default:
            return .internal
        }
    }
}
