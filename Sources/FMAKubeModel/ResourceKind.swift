/// A kind of Kubernetes resource and where it lives in the API: `pods` in the core group
/// `v1`, `replicasets` in `apps/v1`, FMA's CRDs in `fma.llm-d.ai/v1alpha1`.
public struct ResourceKind: Sendable, Hashable, CustomStringConvertible {
    /// The API group; empty for the core group.
    public var group: String
    public var version: String
    public var kind: String
    /// The lower-case plural used in paths (`pods`).
    public var plural: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    /// Subresources served beside the object (`status`, `scale`).
    public var subresources: [String]
    public var categories: [String]

    public init(
        group: String, version: String, kind: String, plural: String, singular: String? = nil,
        namespaced: Bool, shortNames: [String] = [], subresources: [String] = [], categories: [String] = []
    ) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.singular = singular ?? kind.lowercased()
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.subresources = subresources
        self.categories = categories
    }

    /// `v1` for the core group, `group/version` otherwise (an object's `apiVersion`).
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `/api/v1` or `/apis/group/version`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The collection path, in `namespace` when the kind is namespaced and a namespace is given
    /// (no namespace: across all namespaces).
    public func collectionPath(namespace: String?) -> String {
        if namespaced, let namespace {
            return "\(groupVersionPath)/namespaces/\(namespace)/\(plural)"
        }
        return "\(groupVersionPath)/\(plural)"
    }

    /// The path of one object, or of one of its subresources.
    public func objectPath(namespace: String?, name: String, subresource: String? = nil) -> String {
        let base = "\(collectionPath(namespace: namespace))/\(name)"
        return subresource.map { "\(base)/\($0)" } ?? base
    }

    public var listKind: String { kind + "List" }

    /// `pods` or `replicasets.apps`: the resource's name as kubectl prints it.
    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }
}

extension ResourceKind {
    public static let fmaGroup = "fma.llm-d.ai"
    public static let fmaVersion = "v1alpha1"

    public static let namespace = ResourceKind(group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false, shortNames: ["ns"], subresources: ["status"])
    public static let pod = ResourceKind(group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true, shortNames: ["po"], subresources: ["status"], categories: ["all"])
    public static let configMap = ResourceKind(group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true, shortNames: ["cm"])
    public static let node = ResourceKind(group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false, shortNames: ["no"], subresources: ["status"])
    public static let event = ResourceKind(group: "", version: "v1", kind: "Event", plural: "events", namespaced: true, shortNames: ["ev"])
    public static let service = ResourceKind(group: "", version: "v1", kind: "Service", plural: "services", namespaced: true, shortNames: ["svc"], subresources: ["status"], categories: ["all"])
    public static let replicaSet = ResourceKind(group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", namespaced: true, shortNames: ["rs"], subresources: ["status", "scale"], categories: ["all"])
    public static let secret = ResourceKind(group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true)
    public static let serviceAccount = ResourceKind(group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true, shortNames: ["sa"])
    /// `events.k8s.io/v1` Events: the same objects as core Events under newer field names
    /// (`regarding`, `note`, `reportingController`), for clients of the newer events API.
    public static let eventsV1 = ResourceKind(group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", namespaced: true, shortNames: ["ev"])
    public static let lease = ResourceKind(group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true)
    public static let inferenceServerConfig = ResourceKind(group: fmaGroup, version: fmaVersion, kind: "InferenceServerConfig", plural: "inferenceserverconfigs", namespaced: true, shortNames: ["isc"], subresources: ["status"])
    public static let launcherConfig = ResourceKind(group: fmaGroup, version: fmaVersion, kind: "LauncherConfig", plural: "launcherconfigs", namespaced: true, shortNames: ["lcfg"], subresources: ["status"])
    public static let launcherPopulationPolicy = ResourceKind(group: fmaGroup, version: fmaVersion, kind: "LauncherPopulationPolicy", plural: "launcherpopulationpolicies", namespaced: true, shortNames: ["lpp"], subresources: ["status"])

    public static let deployment = ResourceKind(group: "apps", version: "v1", kind: "Deployment", plural: "deployments", namespaced: true, shortNames: ["deploy"], subresources: ["status", "scale"], categories: ["all"])
    public static let daemonSet = ResourceKind(group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets", namespaced: true, shortNames: ["ds"], subresources: ["status"], categories: ["all"])
    static let rbacGroup = "rbac.authorization.k8s.io"
    public static let role = ResourceKind(group: rbacGroup, version: "v1", kind: "Role", plural: "roles", namespaced: true)
    public static let clusterRole = ResourceKind(group: rbacGroup, version: "v1", kind: "ClusterRole", plural: "clusterroles", namespaced: false)
    public static let roleBinding = ResourceKind(group: rbacGroup, version: "v1", kind: "RoleBinding", plural: "rolebindings", namespaced: true)
    public static let clusterRoleBinding = ResourceKind(group: rbacGroup, version: "v1", kind: "ClusterRoleBinding", plural: "clusterrolebindings", namespaced: false)
    public static let networkPolicy = ResourceKind(group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies", namespaced: true, shortNames: ["netpol"])
    public static let customResourceDefinition = ResourceKind(group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions", namespaced: false, shortNames: ["crd", "crds"], subresources: ["status"])
    public static let validatingAdmissionPolicy = ResourceKind(group: "admissionregistration.k8s.io", version: "v1", kind: "ValidatingAdmissionPolicy", plural: "validatingadmissionpolicies", namespaced: false, subresources: ["status"])
    public static let validatingAdmissionPolicyBinding = ResourceKind(group: "admissionregistration.k8s.io", version: "v1", kind: "ValidatingAdmissionPolicyBinding", plural: "validatingadmissionpolicybindings", namespaced: false)

    /// Every kind fma-devcluster serves and the client has typed views for. fma-devcluster rolls
    /// Deployments and DaemonSets out; RBAC objects, NetworkPolicies, CRDs and admission policies
    /// it stores and serves (so that `deploy/`'s manifests apply) but does not enforce.
    public static let all: [ResourceKind] = [
        .namespace, .pod, .configMap, .secret, .serviceAccount, .node, .event, .service, .replicaSet, .lease,
        .inferenceServerConfig, .launcherConfig, .launcherPopulationPolicy,
        .deployment, .daemonSet, .role, .clusterRole, .roleBinding, .clusterRoleBinding, .networkPolicy,
        .customResourceDefinition, .validatingAdmissionPolicy, .validatingAdmissionPolicyBinding,
    ]

    /// The known kind with this `apiVersion` and `kind`.
    public static func known(apiVersion: String, kind: String) -> ResourceKind? {
        all.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }
}
