/// Everything one transfer is configured with, checked and resolved from a request, the
/// client's configuration and its proxy settings before any libcurl call.
struct TransferOptions {
    enum Body: Equatable {
        /// No request body.
        case none
        /// These bytes, with a `Content-Length` (libcurl's "post fields", for any method).
        case bytes([UInt8])
    }

    var method: String
    var url: String
    /// "Name: value" lines, in order, including lines that remove a libcurl default ("Expect:").
    var headerLines: [String]
    var body: Body
    /// Sent as the method (CURLOPT_CUSTOMREQUEST) when libcurl's default for the body is not it.
    var customMethod: String?
    var isHead: Bool
    var timeoutMilliseconds: Int?
    var connectTimeoutMilliseconds: Int
    var maxBodyBytes: Int?
    var userAgent: String
    var allowHTTP2: Bool
    /// The proxy to use, or `nil` to go direct; hosts in `noProxy` go direct either way.
    var proxy: String?
    var noProxy: String
    var tls: HTTPClient.TLS

    /// "GET https://host/path", for messages.
    var label: String { "\(method) \(url)" }

    /// Checks `request` (URL scheme, method token, header names and values) and resolves every
    /// default. `streaming` requests have no default total timeout and no body limit.
    init(
        _ request: HTTPClientRequest,
        configuration: HTTPClient.Configuration,
        proxy: ProxySettings,
        streaming: Bool
    ) throws(HTTPClientError) {
        method = request.method.rawValue
        url = request.url
        let label = "\(method) \(url)"
        func invalid(_ message: String) -> HTTPClientError {
            HTTPClientError(.invalidRequest, "\(label): \(message)")
        }

        let lowerURL = url.lowercased()
        guard lowerURL.hasPrefix("http://") || lowerURL.hasPrefix("https://") else {
            throw invalid("the URL must start with http:// or https://")
        }
        guard !url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7f }) else {
            throw invalid("the URL contains white space or a control character")
        }
        guard !method.isEmpty, method.utf8.allSatisfy(Self.isTokenByte) else {
            throw invalid("the method \"\(method)\" is not an HTTP token")
        }

        var lines: [String] = []
        for field in request.headers {
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(Self.isTokenByte) else {
                throw invalid("the header name \"\(field.name)\" is not an HTTP token")
            }
            guard !field.value.utf8.contains(where: { $0 == 0x0d || $0 == 0x0a || $0 == 0 }) else {
                throw invalid("the value of header \(field.name) contains a line break or NUL")
            }
            // libcurl reads "Name:" as "remove this header" and "Name;" as "send it empty".
            lines.append(field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)")
        }
        if request.headers.first("Authorization") == nil, let provider = configuration.bearerToken {
            let token: String?
            do {
                token = try provider()
            } catch {
                throw HTTPClientError(.configuration, "\(label): the bearer token provider failed: \(error)", cause: error)
            }
            if let token = token?.trimmingSpaces(), !token.isEmpty {
                guard !token.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
                    throw HTTPClientError(.configuration, "\(label): the bearer token contains a control character")
                }
                lines.append("Authorization: Bearer \(token)")
            }
        }
        // libcurl would wait up to a second for "100 Continue" before sending a larger body.
        if !request.headers.contains("Expect") { lines.append("Expect:") }

        let upper = method.uppercased()
        if request.body != nil || ["POST", "PUT", "PATCH"].contains(upper) {
            body = .bytes(request.body ?? [])
            customMethod = method == "POST" ? nil : method
            isHead = false
            // Otherwise libcurl labels every body application/x-www-form-urlencoded.
            if !request.headers.contains("Content-Type") { lines.append("Content-Type:") }
        } else {
            body = .none
            isHead = method == "HEAD"
            customMethod = method == "GET" || isHead ? nil : method
        }
        headerLines = lines

        let timeout = request.timeout ?? (streaming ? nil : configuration.defaultTimeout)
        timeoutMilliseconds = timeout.map(Self.milliseconds)
        connectTimeoutMilliseconds = Self.milliseconds(request.connectTimeout ?? configuration.defaultConnectTimeout)
        maxBodyBytes = streaming ? nil : max(0, request.maxResponseBodyBytes ?? configuration.maxResponseBodyBytes)
        userAgent = configuration.userAgent
        allowHTTP2 = configuration.allowHTTP2
        self.proxy = proxy.proxy(for: url)
        noProxy = proxy.noProxy

        tls = configuration.tls
        for (name, source) in [("trustRoots", tls.trustRoots), ("clientCertificate", tls.clientCertificate), ("clientKey", tls.clientKey)] {
            switch source {
            case .file(let path) where path.isEmpty:
                throw HTTPClientError(.configuration, "\(label): TLS \(name) names an empty file path")
            case .pem(let bytes) where bytes.isEmpty:
                throw HTTPClientError(.configuration, "\(label): TLS \(name) is empty PEM data")
            default:
                break
            }
        }
        if (tls.clientCertificate == nil) != (tls.clientKey == nil) {
            throw HTTPClientError(.configuration, "\(label): TLS clientCertificate and clientKey must be given together")
        }
    }

    /// A duration as whole milliseconds for libcurl: rounded up, at least 1 (0 would mean
    /// "no limit" to libcurl), at most Int32.max.
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 1 }
        guard seconds < Int64(Int32.max) / 1000 else { return Int(Int32.max) }
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int(max(1, milliseconds))
    }

    /// RFC 9110 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
