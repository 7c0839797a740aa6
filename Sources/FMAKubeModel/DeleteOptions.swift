public import FMAJSON

/// How a delete proceeds: conditions it must meet, what happens to dependents, how long the
/// object may take to go.
public struct DeleteOptions: Sendable, Hashable {
    /// What happens to objects the deleted one owns.
    public enum PropagationPolicy: String, Sendable, Hashable {
        /// Dependents are left without their owner.
        case orphan = "Orphan"
        /// Dependents are deleted in the background after the owner is gone.
        case background = "Background"
        /// The owner stays (with a `foregroundDeletion` finalizer) until its dependents are gone.
        case foreground = "Foreground"
    }

    /// Delete only the object with this uid (a 409 Conflict otherwise): never a same-named
    /// successor created since it was read.
    public var preconditionUID: String?
    /// Delete only if the object is still at this resourceVersion (409 otherwise).
    public var preconditionResourceVersion: String?
    public var propagationPolicy: PropagationPolicy?
    /// The grace period in seconds; 0 deletes at once, `nil` takes the object's default.
    public var gracePeriodSeconds: Int64?
    /// Check everything, change nothing (`dryRun: ["All"]`).
    public var dryRun: Bool

    public init(preconditionUID: String? = nil, preconditionResourceVersion: String? = nil,
                propagationPolicy: PropagationPolicy? = nil, gracePeriodSeconds: Int64? = nil, dryRun: Bool = false) {
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.propagationPolicy = propagationPolicy
        self.gracePeriodSeconds = gracePeriodSeconds
        self.dryRun = dryRun
    }

    /// Reads a DeleteOptions object (what the API server receives); wrong types are a 400
    /// naming the field.
    public init(json: JSONObject) throws(KubeStatus) {
        self.init()
        if let grace = json["gracePeriodSeconds"], !grace.isNull {
            guard let value = grace.int, value >= 0 else { throw .badRequest("DeleteOptions.gracePeriodSeconds must be a non-negative integer") }
            gracePeriodSeconds = value
        }
        if let preconditions = json["preconditions"]?.object {
            preconditionUID = preconditions["uid"]?.string
            preconditionResourceVersion = preconditions["resourceVersion"]?.string
        }
        if let policy = json["propagationPolicy"], !policy.isNull {
            guard let text = policy.string, let value = PropagationPolicy(rawValue: text) else {
                throw .badRequest("DeleteOptions.propagationPolicy must be Background, Foreground or Orphan")
            }
            propagationPolicy = value
        }
        if json["orphanDependents"]?.bool == true, propagationPolicy == nil {
            propagationPolicy = .orphan
        }
        if let dryRun = json["dryRun"]?.array, dryRun.contains(.string("All")) {
            self.dryRun = true
        }
    }

    /// The `meta/v1` DeleteOptions object sent as the request body.
    public var json: JSONObject {
        var object: JSONObject = ["kind": "DeleteOptions", "apiVersion": "v1"]
        var preconditions = JSONObject()
        if let preconditionUID { preconditions["uid"] = .string(preconditionUID) }
        if let preconditionResourceVersion { preconditions["resourceVersion"] = .string(preconditionResourceVersion) }
        if !preconditions.isEmpty { object["preconditions"] = .object(preconditions) }
        if let propagationPolicy { object["propagationPolicy"] = .string(propagationPolicy.rawValue) }
        if let gracePeriodSeconds { object["gracePeriodSeconds"] = .int(gracePeriodSeconds) }
        if dryRun { object["dryRun"] = ["All"] }
        return object
    }
}
