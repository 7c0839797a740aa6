public import FMAJSON

/// A core/v1 PodStatus.
public struct PodStatus: JSONObjectView, HasConditions {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    public var phase: String? {
        get { json.string("phase") }
        set { json.setString("phase", newValue) }
    }

    public var podIP: String? {
        get { json.string("podIP") }
        set { json.setString("podIP", newValue) }
    }

    public var hostIP: String? {
        get { json.string("hostIP") }
        set { json.setString("hostIP", newValue) }
    }

    public var startTime: String? {
        get { json.string("startTime") }
        set { json.setString("startTime", newValue) }
    }

    public var conditions: [Condition] {
        get { json.views("conditions") }
        set { json.setViews("conditions", newValue) }
    }

    public var containerStatuses: [ContainerStatus] {
        get { json.views("containerStatuses") }
        set { json.setViews("containerStatuses", newValue) }
    }
}

/// The status of one container in a Pod.
public struct ContainerStatus: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public var name: String {
        get { json.string("name") ?? "" }
        set { json.setString("name", newValue) }
    }

    public var ready: Bool {
        get { json.bool("ready") ?? false }
        set { json.setBool("ready", newValue) }
    }

    public var started: Bool? {
        get { json.bool("started") }
        set { json.setBool("started", newValue) }
    }

    public var restartCount: Int64 {
        get { json.int("restartCount") ?? 0 }
        set { json.setInt("restartCount", newValue) }
    }

    public var image: String? {
        get { json.string("image") }
        set { json.setString("image", newValue) }
    }

    public var containerID: String? {
        get { json.string("containerID") }
        set { json.setString("containerID", newValue) }
    }

    /// `state` as sent: one of `waiting`, `running` or `terminated`, each an object.
    public var state: JSONObject? {
        get { json["state"]?.object }
        set { json["state"] = newValue.map { .object($0) } }
    }

    public var isRunning: Bool { state?["running"] != nil }

    /// The exit code when the container has terminated.
    public var exitCode: Int64? { state?["terminated"]?["exitCode"]?.int }
}
