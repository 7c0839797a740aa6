public import FMAKubeModel

/// One page of a list: the items, the list's resourceVersion (watch from it to see every
/// later change) and the token for the next page (`nil` on the last page).
public struct ObjectList<T: KubeObject>: Sendable {
    public var items: [T]
    public var resourceVersion: String
    public var continueToken: String?
    /// How many items remain after this page, when the server says.
    public var remainingItemCount: Int64?

    public init(items: [T], resourceVersion: String, continueToken: String? = nil, remainingItemCount: Int64? = nil) {
        self.items = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
        self.remainingItemCount = remainingItemCount
    }
}
