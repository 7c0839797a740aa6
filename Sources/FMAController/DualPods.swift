/// Every name the dual-pods controller shares with FMA, in one place: annotations, labels,
/// finalizers, Event reasons, container names. They are FMA's exactly, so FMA's manifests,
/// dashboards and tooling work unchanged.
public enum DualPods {
    static let prefix = "dual-pods.llm-d.ai/"

    /// Annotations.
    public enum Annotation {
        /// On a requester: the name of its InferenceServerConfig (launcher mode).
        public static let inferenceServerConfig = prefix + "inference-server-config"
        /// On a requester: a server patch (direct mode).
        public static let serverPatch = prefix + "server-patch"
        /// On a requester: the port of FMA's HTTP SPI (default 8081).
        public static let adminPort = prefix + "admin-port"
        /// On a requester: `{"Errors":[...]}` or `{"Errors":null}`.
        public static let status = prefix + "status"
        /// On a requester: its GPU UUIDs, comma-separated.
        public static let accelerators = prefix + "accelerators"
        /// On a provider: `"<requester UID> <requester name>"`; its presence means bound.
        public static let requester = prefix + "requester"
        /// On a bound launcher Pod: the instance it is bound for.
        public static let instanceID = prefix + "instance-id"
        /// On a bound launcher Pod: the instance's port.
        public static let serverPort = prefix + "server-port"
        /// On a bound launcher Pod: the JSON of the instance's configuration (FMA's VllmConfig).
        public static let vllmConfig = prefix + "vllm-config"
        /// On a bound launcher Pod: `{"labels":{…},"annotations":{…}}` committed at bind time.
        public static let iscRoutingMetadata = prefix + "isc-routing-metadata"
        /// On a launcher Pod: the node-specific template hash.
        public static let launcherConfigHash = prefix + "launcher-config-hash"
        /// On a launcher Pod: the node-independent template hash.
        public static let launcherTemplateHash = prefix + "launcher-populator-template-hash"
        /// On a direct provider: the hash of its content, node and GPU indices (reuse of sleepers).
        public static let nominal = prefix + "nominal"
        /// Ours, on a requester: how it was served (hot, warm or cold), for `fmactl dual list`.
        public static let actuationPath = prefix + "actuation-path"
    }

    /// Labels.
    public enum Label {
        /// On both Pods while bound: the other Pod's name.
        public static let dual = prefix + "dual"
        /// On a provider: "true" or "false" as the controller knows it.
        public static let sleeping = prefix + "sleeping"
        /// On a requester bound to a launcher: the instance id.
        public static let instance = prefix + "instance"
        /// On a launcher Pod: the LauncherConfig it was made from (its presence marks a launcher).
        public static let launcherConfigName = prefix + "launcher-config-name"
        /// On a launcher Pod: the node it is pinned to.
        public static let nodeName = prefix + "node-name"
        /// On a launcher Pod the populator finds stuck.
        public static let launcherStuck = prefix + "launcher-stuck"
        public static let component = "app.kubernetes.io/component"
        public static let componentLauncher = "launcher"
    }

    /// Finalizers.
    public enum Finalizer {
        public static let provider = prefix + "provider"
        public static let requester = prefix + "requester"
    }

    /// Event reasons.
    public enum Reason {
        /// FMA's: the bound launcher holds routing metadata the ISC no longer allows.
        public static let outdatedRoutingMetadata = "OutdatedRoutingMetadata"
        /// Ours: the requester was served (message says hot, warm or cold and how long it took).
        public static let served = "Actuated"
        /// Ours: the instance failed the verifying completion and was deleted.
        public static let verificationFailed = "InstanceVerificationFailed"
        /// Ours: the requester is deleted because its provider or instance went away.
        public static let providerGone = "ProviderGone"
        /// Ours: the requester is deleted because its node is cordoned and it has no provider.
        public static let nodeUnschedulable = "NodeUnschedulable"
        /// Ours: a sleeping direct provider was deleted to make room for the requester's.
        public static let sleeperEvicted = "SleeperEvicted"
    }

    /// The container of requesters and launchers.
    public static let inferenceServerContainer = "inference-server"
    /// The controller's name: user agent, Event source, field manager.
    public static let controllerName = "dual-pods-controller"
    /// The launcher container's port carrying fma's RPC protocol.
    public static let rpcPortName = "fma-rpc"
    /// The port of FMA's launcher REST API (probes).
    public static let launcherRESTPort = 8001
    /// The default port of a requester's HTTP SPI.
    public static let defaultAdminPort = 8081
    /// Reserved prefixes for ISC routing metadata keys.
    static let reservedPrefixes = [prefix, "kubernetes.io/", "k8s.io/"]
    /// The instance annotations the controller writes into every instance it creates.
    public static let instanceISCNameAnnotation = "isc-name"
    public static let instanceInferencePortAnnotation = "inference-port"
    /// The node label a launcher Pod is pinned with.
    public static let hostnameLabel = "kubernetes.io/hostname"
}
