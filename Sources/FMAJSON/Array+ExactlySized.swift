extension Array {
    /// The same elements without spare capacity: itself when it has none, else a copy.
    func exactlySized() -> [Element] {
        guard count < capacity else { return self }
        return [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            _ = buffer.initialize(from: self)
            initialized = count
        }
    }
}
