import FMAJSON
import FMAKubeModel

extension KindView {
    /// `events.k8s.io/v1` Events over the stored core `v1` Events, with the field names the
    /// newer API uses. An Event created through either API reads through both.
    static let eventsV1 = KindView(
        kind: .eventsV1, storage: .event,
        toStorage: { renamed($0, EventsV1Fields.fromV1, apiVersion: ResourceKind.event.apiVersion) },
        fromStorage: { renamed($0, EventsV1Fields.toV1, apiVersion: ResourceKind.eventsV1.apiVersion) },
        validate: { event, old in old == nil ? EventsV1Fields.createErrors(event) : [] })

    private static func renamed(_ object: JSONObject, _ names: [String: String], apiVersion: String) -> JSONObject {
        var result = JSONObject()
        for (key, value) in object {
            result[names[key] ?? key] = value
        }
        result["apiVersion"] = .string(apiVersion)
        return result
    }
}

/// How the fields of a core Event are named in `events.k8s.io/v1`, and what that API requires
/// of an Event created through it.
enum EventsV1Fields {
    /// Core name → `events.k8s.io/v1` name, for the fields whose names differ.
    static let toV1: [String: String] = [
        "involvedObject": "regarding", "message": "note", "reportingComponent": "reportingController",
        "source": "deprecatedSource", "firstTimestamp": "deprecatedFirstTimestamp",
        "lastTimestamp": "deprecatedLastTimestamp", "count": "deprecatedCount",
    ]
    static let fromV1 = Dictionary(uniqueKeysWithValues: toV1.map { ($1, $0) })

    /// The field selectors of `events.k8s.io/v1` Events and the stored fields they select.
    static let fieldLabels: [String: String] = {
        var labels = ["reason": "reason", "type": "type", "reportingController": "reportingComponent"]
        for field in ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"] {
            labels["regarding.\(field)"] = "involvedObject.\(field)"
        }
        return labels
    }()

    /// What the newer API checks on create, beyond the core Event's checks: the new fields are
    /// required and the deprecated ones must be unset.
    static func createErrors(_ event: JSONObject) -> [(field: String, message: String)] {
        var errors = FieldErrors()
        if event["eventTime"]?.string?.isEmpty ?? true { errors.required("eventTime") }
        let type = event["type"]?.string ?? ""
        if type != "Normal" && type != "Warning" {
            errors.invalid("type", .string(type), "has invalid value: must be Normal or Warning")
        }
        for (field, limit) in [("reportingController", 316), ("reportingInstance", 128), ("action", 128), ("reason", 128)] {
            let text = errors.string(event[field], field, required: true) ?? ""
            if text.utf8.count > limit { errors.invalid(field, .string(text), "must have at most \(limit) bytes") }
        }
        if let note = event["note"]?.string, note.utf8.count > 1024 {
            errors.invalid("note", .string(note), "must have at most 1024 bytes")
        }
        for field in ["deprecatedSource", "deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount"] {
            if let value = event[field], !value.isNull, value != .object(JSONObject()), value != .int(0) {
                errors.invalid(field, value, "needs to be unset")
            }
        }
        return errors.causes
    }
}
