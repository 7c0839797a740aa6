public import FMAJSON

/// fma.llm-d.ai/v1alpha1 LauncherPopulationPolicy (`lpp`): how many idle launchers of which
/// LauncherConfig to keep on each node the selector picks.
public struct LauncherPopulationPolicy: KubeObject {
    public static var resourceKind: ResourceKind { .launcherPopulationPolicy }
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    public var spec: LauncherPopulationPolicySpec {
        get { json.viewOrEmpty("spec") }
        set { json.setView("spec", newValue) }
    }

    public var status: FMAStatus {
        get { json.viewOrEmpty("status") }
        set { json.setViewOrRemove("status", newValue) }
    }
}

/// The `spec` of a LauncherPopulationPolicy.
public struct LauncherPopulationPolicySpec: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public var enhancedNodeSelector: EnhancedNodeSelector {
        get { json.viewOrEmpty("enhancedNodeSelector") }
        set { json.setView("enhancedNodeSelector", newValue) }
    }

    /// Launchers wanted per selected node, per LauncherConfig (names are unique: the list is
    /// keyed by `launcherConfigName`).
    public var countForLauncher: [CountForLauncher] {
        get { json.views("countForLauncher") }
        set { json["countForLauncher"] = .array(newValue.map { .object($0.json) }) }
    }
}

/// A node predicate: a label selector and inclusive ranges on allocatable resources.
public struct EnhancedNodeSelector: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    /// `labelSelector` as sent (a `metav1.LabelSelector` object).
    public var labelSelector: JSONValue? {
        get { json["labelSelector"] }
        set { json["labelSelector"] = newValue }
    }

    /// `labelSelector` read as a LabelSelector; errors name the bad requirement.
    public func parsedLabelSelector() throws(SelectorError) -> LabelSelector {
        try LabelSelector(object: labelSelector)
    }

    /// Resource name → inclusive range on `node.status.allocatable`.
    public var allocatableResources: [String: ResourceRange] {
        get {
            guard let object = json["allocatableResources"]?.object else { return [:] }
            var ranges: [String: ResourceRange] = [:]
            for (name, value) in object {
                if let range = value.object { ranges[name] = ResourceRange(json: range) }
            }
            return ranges
        }
        set {
            json["allocatableResources"] = newValue.isEmpty
                ? nil
                : .object(JSONObject(newValue.sorted { $0.key < $1.key }.map { ($0.key, .object($0.value.json)) }))
        }
    }
}

/// An inclusive range of quantities; an absent bound is unbounded.
public struct ResourceRange: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public init(min: String? = nil, max: String? = nil) {
        json = JSONObject()
        self.min = min
        self.max = max
    }

    public var min: String? {
        get { quantity("min") }
        set { json.setString("min", newValue) }
    }

    public var max: String? {
        get { quantity("max") }
        set { json.setString("max", newValue) }
    }

    private func quantity(_ key: String) -> String? {
        switch json[key] {
        case .string(let s)?: s
        case .int(let i)?: String(i)
        case .double(let d)?: String(d)
        default: nil
        }
    }
}

/// One entry of `countForLauncher`.
public struct CountForLauncher: JSONObjectView {
    public var json: JSONObject

    public init(json: JSONObject = JSONObject()) {
        self.json = json
    }

    public init(launcherConfigName: String, launcherCount: Int) {
        json = ["launcherConfigName": .string(launcherConfigName), "launcherCount": .int(Int64(launcherCount))]
    }

    public var launcherConfigName: String {
        get { json.string("launcherConfigName") ?? "" }
        set { json.setString("launcherConfigName", newValue) }
    }

    public var launcherCount: Int {
        get { Int(json.int("launcherCount") ?? 0) }
        set { json.setInt("launcherCount", Int64(newValue)) }
    }
}
