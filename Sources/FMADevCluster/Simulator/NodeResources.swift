/// What the kubelet hands out on one node: pod address slots (127.X.Y.1...254) and GPU indices.
struct NodeResources: Sendable {
    let node: SimulatedNode
    private var usedSlots: Set<Int> = []
    private var usedGPUs: Set<Int> = []

    init(node: SimulatedNode) {
        self.node = node
    }

    var freeGPUCount: Int { node.gpus - usedGPUs.count }

    /// The lowest free slot, or nil when all 254 are taken.
    mutating func takeSlot() -> Int? {
        guard let slot = (1...254).first(where: { !usedSlots.contains($0) }) else { return nil }
        usedSlots.insert(slot)
        return slot
    }

    mutating func releaseSlot(_ slot: Int) {
        usedSlots.remove(slot)
    }

    /// `count` free GPUs, those of `preferred` first (in its order), then the lowest free
    /// indices; nil when fewer are free.
    mutating func takeGPUs(_ count: Int, preferring preferred: [Int] = []) -> [Int]? {
        guard count > 0 else { return [] }
        let free = (0..<node.gpus).filter { !usedGPUs.contains($0) }
        guard free.count >= count else { return nil }
        var ordered = preferred.filter { free.contains($0) }.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
        ordered += free.filter { !ordered.contains($0) }
        let taken = Array(ordered.prefix(count))
        usedGPUs.formUnion(taken)
        return taken
    }

    mutating func releaseGPUs(_ indices: [Int]) {
        usedGPUs.subtract(indices)
    }
}
