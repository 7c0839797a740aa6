public import FMAJSON

/// Why an API call failed, as the API server names it in a `Status` object's `reason`.
public struct StatusReason: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let notFound = StatusReason(rawValue: "NotFound")
    public static let alreadyExists = StatusReason(rawValue: "AlreadyExists")
    public static let conflict = StatusReason(rawValue: "Conflict")
    public static let invalid = StatusReason(rawValue: "Invalid")
    public static let badRequest = StatusReason(rawValue: "BadRequest")
    public static let gone = StatusReason(rawValue: "Gone")
    public static let expired = StatusReason(rawValue: "Expired")
    public static let unauthorized = StatusReason(rawValue: "Unauthorized")
    public static let forbidden = StatusReason(rawValue: "Forbidden")
    public static let methodNotAllowed = StatusReason(rawValue: "MethodNotAllowed")
    public static let unsupportedMediaType = StatusReason(rawValue: "UnsupportedMediaType")
    public static let notAcceptable = StatusReason(rawValue: "NotAcceptable")
    public static let requestEntityTooLarge = StatusReason(rawValue: "RequestEntityTooLarge")
    public static let tooManyRequests = StatusReason(rawValue: "TooManyRequests")
    public static let timeout = StatusReason(rawValue: "Timeout")
    public static let serviceUnavailable = StatusReason(rawValue: "ServiceUnavailable")
    public static let internalError = StatusReason(rawValue: "InternalError")
    public static let unknown = StatusReason(rawValue: "")

    /// The reason the API server gives with an HTTP status code (`unknown` for a code it
    /// has no reason for).
    public init(httpCode code: Int) {
        self = switch code {
        case 400: .badRequest
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        case 405: .methodNotAllowed
        case 406: .notAcceptable
        case 409: .conflict
        case 410: .gone
        case 413: .requestEntityTooLarge
        case 415: .unsupportedMediaType
        case 422: .invalid
        case 429: .tooManyRequests
        case 503: .serviceUnavailable
        case 504: .timeout
        case 500..<600: .internalError
        default: .unknown
        }
    }
}

/// A `meta/v1` `Status`: what the API server answers instead of an object when a call fails
/// (and for some deletes). The same type is built by fma-devcluster and read by the client.
public struct KubeStatus: Sendable, Hashable, Error, CustomStringConvertible {
    public var code: Int
    public var reason: StatusReason
    public var message: String
    /// `details` as sent (`name`, `kind`, `causes`, `retryAfterSeconds`), if any.
    public var details: JSONObject?

    public init(code: Int, reason: StatusReason, message: String, details: JSONObject? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    /// Reads a Status object; `nil` when `json` is not one.
    public init?(json: JSONObject) {
        guard json["kind"]?.string == "Status" else { return nil }
        code = Int(json["code"]?.int ?? 0)
        reason = StatusReason(rawValue: json["reason"]?.string ?? "")
        message = json["message"]?.string ?? ""
        details = json["details"]?.object
    }

    public var json: JSONObject {
        var object: JSONObject = [
            "kind": "Status", "apiVersion": "v1", "metadata": .object(JSONObject()),
            "status": code < 300 ? "Success" : "Failure",
            "message": .string(message), "reason": .string(reason.rawValue), "code": .int(Int64(code)),
        ]
        if let details { object["details"] = .object(details) }
        return object
    }

    public var description: String { "\(code) \(reason.rawValue): \(message)" }

    // The failures the API server answers most, with its wording.

    public static func notFound(_ kind: ResourceKind, name: String) -> KubeStatus {
        KubeStatus(code: 404, reason: .notFound, message: "\(kind) \"\(name)\" not found", details: details(kind, name))
    }

    public static func alreadyExists(_ kind: ResourceKind, name: String) -> KubeStatus {
        KubeStatus(code: 409, reason: .alreadyExists, message: "\(kind) \"\(name)\" already exists", details: details(kind, name))
    }

    public static func conflict(_ kind: ResourceKind, name: String, _ why: String) -> KubeStatus {
        KubeStatus(code: 409, reason: .conflict, message: "Operation cannot be fulfilled on \(kind) \"\(name)\": \(why)", details: details(kind, name))
    }

    /// 422 with one cause per invalid field (`field` is a path like `spec.maxInstances`).
    public static func invalid(_ kind: ResourceKind, name: String, causes: [(field: String, message: String)]) -> KubeStatus {
        var d = details(kind, name)
        d["kind"] = .string(kind.kind)  // kubectl prints "The Kind.group \"name\" is invalid"
        d["causes"] = .array(causes.map { ["reason": "FieldValueInvalid", "message": .string($0.message), "field": .string($0.field)] })
        let text = causes.map { "\($0.field): \($0.message)" }.joined(separator: ", ")
        return KubeStatus(code: 422, reason: .invalid, message: "\(kind.kind).\(kind.group.isEmpty ? "" : kind.group) \"\(name)\" is invalid: \(text)".replacing(". \"", with: " \""), details: d)
    }

    public static func badRequest(_ message: String) -> KubeStatus {
        KubeStatus(code: 400, reason: .badRequest, message: message)
    }

    public static func gone(_ message: String) -> KubeStatus {
        KubeStatus(code: 410, reason: .expired, message: message)
    }

    private static func details(_ kind: ResourceKind, _ name: String) -> JSONObject {
        var d: JSONObject = ["name": .string(name), "kind": .string(kind.plural)]
        if !kind.group.isEmpty { d["group"] = .string(kind.group) }
        return d
    }
}

/// The type of a watch event.
public enum WatchEventType: String, Sendable, Hashable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
    case bookmark = "BOOKMARK"
    case error = "ERROR"
}
