import FMAJSON
public import FMAKubeModel

/// One event of a watch: an object added, modified or deleted, or a bookmark (an object that
/// carries only a newer `metadata.resourceVersion` to resume from). `ERROR` events are not
/// events: the stream throws them as `KubeError`s.
public struct WatchEvent<T: KubeObject>: Sendable {
    public var type: WatchEventType
    public var object: T

    public init(type: WatchEventType, object: T) {
        self.type = type
        self.object = object
    }

    /// Reads one line of a watch stream: `{"type": ..., "object": {...}}`. An `ERROR` event
    /// throws its Status as an `.api` error (410 Expired/Gone when the resourceVersion is too
    /// old).
    public init(line: some Collection<UInt8>, request: String) throws(KubeError) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: line)
        } catch {
            throw KubeError(.decode, "\(request): a watch event is not JSON: \(error.message)", cause: error)
        }
        guard let typeText = value["type"]?.string else {
            throw KubeError(.decode, "\(request): a watch event has no \"type\"")
        }
        guard let type = WatchEventType(rawValue: typeText) else {
            throw KubeError(.decode, "\(request): unknown watch event type \"\(typeText)\"")
        }
        guard let object = value["object"]?.object else {
            throw KubeError(.decode, "\(request): a \(typeText) watch event has no object")
        }
        if type == .error {
            let status = KubeStatus(json: object) ?? KubeStatus(code: 500, reason: .internalError, message: "watch error: \(JSONValue.object(object).serializedString())")
            throw KubeError.api(status, request: request)
        }
        self.type = type
        self.object = T(json: object)
    }
}
