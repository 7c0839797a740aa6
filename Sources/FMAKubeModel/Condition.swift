public import FMAJSON

/// A status condition of a Pod or Node (`type`, `status` `True`/`False`/`Unknown`, `reason`,
/// `message`, times). Node conditions' `lastHeartbeatTime` stays in `json`.
public struct Condition: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public init(type: String, status: Bool, reason: String? = nil, message: String? = nil, lastTransitionTime: String? = nil) {
        json = ["type": .string(type), "status": .string(status ? "True" : "False")]
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }

    public var type: String {
        get { json.string("type") ?? "" }
        set { json.setString("type", newValue) }
    }

    /// `True`, `False` or `Unknown`.
    public var status: String {
        get { json.string("status") ?? "Unknown" }
        set { json.setString("status", newValue) }
    }

    public var isTrue: Bool { status == "True" }

    public var reason: String? {
        get { json.string("reason") }
        set { json.setString("reason", newValue) }
    }

    public var message: String? {
        get { json.string("message") }
        set { json.setString("message", newValue) }
    }

    public var lastTransitionTime: String? {
        get { json.string("lastTransitionTime") }
        set { json.setString("lastTransitionTime", newValue) }
    }

    public var lastProbeTime: String? {
        get { json.string("lastProbeTime") }
        set { json.setString("lastProbeTime", newValue) }
    }

    /// `conditions` with `condition` put in place of the one of the same type (keeping the old
    /// `lastTransitionTime` when the status is unchanged), or appended.
    public static func setting(_ condition: Condition, in conditions: [Condition]) -> [Condition] {
        var result = conditions
        guard let index = result.firstIndex(where: { $0.type == condition.type }) else {
            result.append(condition)
            return result
        }
        var new = condition
        if result[index].status == condition.status, let time = result[index].lastTransitionTime {
            new.lastTransitionTime = time
        }
        result[index] = new
        return result
    }
}

/// A status with a `conditions` list (a Pod's, a Node's): lookup and update by type.
public protocol HasConditions {
    var conditions: [Condition] { get set }
}

extension HasConditions {
    /// The condition of `type` (`Ready`, `PodScheduled`, ...).
    public func condition(_ type: String) -> Condition? {
        conditions.first { $0.type == type }
    }

    /// Replaces the condition of the same type, or appends it; `lastTransitionTime` is kept
    /// when the status did not change.
    public mutating func setCondition(_ condition: Condition) {
        conditions = Condition.setting(condition, in: conditions)
    }
}
