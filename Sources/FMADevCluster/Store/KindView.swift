public import FMAJSON
public import FMAKubeModel

/// A kind served under one group version and stored as another, as a real API server serves
/// `events.k8s.io/v1` Events from the same storage as core `v1` Events: an object written
/// through either is read through both. Objects are converted on the way in (`toStorage`)
/// and on the way out (`fromStorage`); the store holds only the storage kind.
public struct KindView: Sendable {
    /// The kind as served (`events.k8s.io/v1` `Event`).
    public let kind: ResourceKind
    /// The kind the store holds (`v1` `Event`).
    public let storage: ResourceKind
    public let toStorage: @Sendable (JSONObject) -> JSONObject
    public let fromStorage: @Sendable (JSONObject) -> JSONObject
    /// Checks an object written through the view, in the view's own form (fields named as the
    /// view names them), before it is converted and stored.
    public let validate: Admission.Validator

    public init(
        kind: ResourceKind, storage: ResourceKind, toStorage: @escaping @Sendable (JSONObject) -> JSONObject,
        fromStorage: @escaping @Sendable (JSONObject) -> JSONObject, validate: @escaping Admission.Validator = { _, _ in [] }
    ) {
        self.kind = kind
        self.storage = storage
        self.toStorage = toStorage
        self.fromStorage = fromStorage
        self.validate = validate
    }
}
