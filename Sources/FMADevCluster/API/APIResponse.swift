import FMAHTTPServer
import FMAJSON
import FMAKubeModel
import NIOCore
import NIOHTTP1

/// Responses as the Kubernetes API server writes them: JSON bodies, and a `Status` object for
/// every failure.
enum APIResponse {
    static let jsonContentType = "application/json"

    /// `object` as compact JSON, then a newline.
    static func json(_ object: JSONObject, status: HTTPResponseStatus = .ok, contentType: String = jsonContentType) -> HTTPResponse {
        var bytes = object.serialized()
        bytes.append(UInt8(ascii: "\n"))
        return HTTPResponse(status: status, headers: ["Content-Type": contentType], body: .bytes(ByteBuffer(bytes: bytes)))
    }

    /// A `Status` object with the status's code as the HTTP status.
    static func status(_ status: KubeStatus) -> HTTPResponse {
        json(status.json, status: HTTPResponseStatus(statusCode: status.code))
    }

    /// The `Status` for an HTTP failure the server itself detected (no route, body too large).
    static func status(_ status: HTTPResponseStatus, _ message: String) -> HTTPResponse {
        self.status(KubeStatus(code: Int(status.code), reason: StatusReason(httpCode: Int(status.code)), message: message))
    }
}

extension KubeStatus {
    /// A path that names nothing. The empty `details` is what a real API server sends, and
    /// what kubectl relies on (`kubectl debug` dereferences it to tell a missing subresource
    /// from a missing pod).
    static func notFoundPath(_ message: String) -> KubeStatus {
        KubeStatus(code: 404, reason: .notFound, message: message, details: [:])
    }

    static func methodNotAllowed(_ method: String, _ what: String) -> KubeStatus {
        KubeStatus(code: 405, reason: .methodNotAllowed, message: "the server does not allow this method on the requested resource: \(method) on \(what)")
    }

    static func unsupportedMediaType(_ message: String) -> KubeStatus {
        KubeStatus(code: 415, reason: .unsupportedMediaType, message: message)
    }

    static let unauthorized = KubeStatus(code: 401, reason: .unauthorized, message: "Unauthorized")

    static func internalError(_ message: String) -> KubeStatus {
        KubeStatus(code: 500, reason: .internalError, message: message)
    }
}

extension HTTPResponse {
    /// With a `Warning: 299 - "…"` header per warning, as the API server sends them (kubectl
    /// prints each as "Warning: …").
    func warning(_ warnings: [String]) -> HTTPResponse {
        var response = self
        for warning in warnings {
            let quoted = warning.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            response.headers.add(name: "Warning", value: "299 - \"\(quoted)\"")
        }
        return response
    }
}
