public import FMAJSON

/// A container probe. `httpGet` and `tcpSocket`'s port are typed; `exec` and `grpc` stay in `json`.
public struct Probe: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public var httpGet: HTTPGetAction? {
        get { json.view("httpGet") }
        set { json.setView("httpGet", newValue) }
    }

    /// The port of a `tcpSocket` probe (a number or the name of a container port).
    public var tcpSocketPort: IntOrString? {
        get { json["tcpSocket"]?["port"].flatMap(IntOrString.init(json:)) }
        set { json["tcpSocket"] = newValue.map { ["port": $0.json] } }
    }

    public var initialDelaySeconds: Int64? {
        get { json.int("initialDelaySeconds") }
        set { json.setInt("initialDelaySeconds", newValue) }
    }

    public var periodSeconds: Int64? {
        get { json.int("periodSeconds") }
        set { json.setInt("periodSeconds", newValue) }
    }

    public var timeoutSeconds: Int64? {
        get { json.int("timeoutSeconds") }
        set { json.setInt("timeoutSeconds", newValue) }
    }

    public var failureThreshold: Int64? {
        get { json.int("failureThreshold") }
        set { json.setInt("failureThreshold", newValue) }
    }

    public var successThreshold: Int64? {
        get { json.int("successThreshold") }
        set { json.setInt("successThreshold", newValue) }
    }
}

/// An HTTP GET probe: `path` on `port` (a number or the name of a container port).
public struct HTTPGetAction: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public init(path: String, port: IntOrString) {
        json = ["path": .string(path), "port": port.json]
    }

    /// `/` when absent, as the kubelet reads it.
    public var path: String {
        get { json.string("path") ?? "/" }
        set { json.setString("path", newValue) }
    }

    public var port: IntOrString? {
        get { json["port"].flatMap(IntOrString.init(json:)) }
        set { json["port"] = newValue?.json }
    }

    /// The host to connect to; the Pod's IP when absent.
    public var host: String? {
        get { json.string("host") }
        set { json.setString("host", newValue) }
    }

    /// `HTTP` when absent.
    public var scheme: String {
        get { json.string("scheme") ?? "HTTP" }
        set { json.setString("scheme", newValue) }
    }
}

/// Kubernetes' `IntOrString`: a port number or a port name, a count or a percentage.
public enum IntOrString: Sendable, Hashable, CustomStringConvertible {
    case int(Int)
    case string(String)

    /// Reads a number or a string; anything else is not an IntOrString.
    public init?(json: JSONValue) {
        if let i = json.int {
            self = .int(Int(i))
        } else if let s = json.string {
            self = .string(s)
        } else {
            return nil
        }
    }

    public var json: JSONValue {
        switch self {
        case .int(let i): .int(Int64(i))
        case .string(let s): .string(s)
        }
    }

    public var description: String {
        switch self {
        case .int(let i): String(i)
        case .string(let s): s
        }
    }
}
