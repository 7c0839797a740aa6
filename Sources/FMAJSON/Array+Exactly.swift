extension Array {
    /// A copy with no spare capacity.
    init(exactly elements: [Element]) {
        self.init(unsafeUninitializedCapacity: elements.count) { buffer, count in
            _ = buffer.initialize(from: elements)
            count = elements.count
        }
    }
}
