public import FMARPC
public import FMAWire
public import Foundation

/// A mock node described by a file in FMA's `gpu-map` entry format: a JSON object from GPU UUID
/// to its index, e.g. `{"GPU-0a…": 0, "GPU-9f…": 1}` (what FMA's `gpu-map` ConfigMap holds per
/// node). fma extends it: a value may instead be an object
/// `{"index": 1, "memoryTotalMiB": 81920, "memoryUsedMiB": 2048, "name": "NVIDIA H100 80GB HBM3"}`
/// where only `index` is required (total 80 GiB, used 0 and name "Mock GPU" by default).
/// Both forms mix freely in one file.
public enum GPUMapFile {
    /// The devices `path` describes, in index order.
    public static func load(_ path: String) throws(RPCError) -> [Fma_V1_GPUDevice] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RPCError(.unavailable, "cannot read the GPU map \(path): \(error.localizedDescription)", cause: error)
        }
        return try parse(data, origin: path)
    }

    /// The devices the JSON text `data` describes; errors name `origin`, the entry and the field.
    public static func parse(_ data: Data, origin: String) throws(RPCError) -> [Fma_V1_GPUDevice] {
        let document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw RPCError(.invalidArgument, "the GPU map \(origin) is not valid JSON: \(error)", cause: error)
        }
        guard case .object(let entries) = document else {
            throw RPCError(.invalidArgument, "the GPU map \(origin) must be a JSON object from GPU UUID to index, not \(document.kind)")
        }
        var devices: [Fma_V1_GPUDevice] = []
        var owners: [UInt32: String] = [:]
        for (uuid, value) in entries.sorted(by: { $0.key < $1.key }) {
            let device = try entry(uuid, value, origin: origin)
            if let other = owners[device.index] {
                throw RPCError(.invalidArgument, "the GPU map \(origin) gives index \(device.index) to both \(other) and \(uuid)")
            }
            owners[device.index] = uuid
            devices.append(device)
        }
        return devices.sorted { $0.index < $1.index }
    }

    private static let fields = ["index", "memoryTotalMiB", "memoryUsedMiB", "name"]

    private static func entry(_ uuid: String, _ value: JSONValue, origin: String) throws(RPCError) -> Fma_V1_GPUDevice {
        func fail(_ problem: String) -> RPCError {
            RPCError(.invalidArgument, "the GPU map \(origin), entry \"\(uuid)\": \(problem)")
        }
        guard !uuid.isEmpty else { throw fail("a GPU UUID must not be empty") }
        var device = Fma_V1_GPUDevice()
        device.uuid = uuid
        device.name = MockProbe.name
        device.memoryTotalBytes = MockProbe.memoryTotalBytes
        switch value {
        case .number:
            device.index = UInt32(try whole(value, max: UInt64(UInt32.max)) {
                fail("the index must be a whole number from 0 to \(UInt32.max), not \($0)")
            })
        case .object(let fieldValues):
            if let unknown = fieldValues.keys.sorted().first(where: { !fields.contains($0) }) {
                throw fail("unknown field \"\(unknown)\" (known: \(fields.joined(separator: ", ")))")
            }
            guard let index = fieldValues["index"] else { throw fail("\"index\" is missing") }
            device.index = UInt32(try whole(index, max: UInt64(UInt32.max)) {
                fail("\"index\" must be a whole number from 0 to \(UInt32.max), not \($0)")
            })
            let mebibyte: UInt64 = 1 << 20
            let maxMiB = UInt64.max / mebibyte
            if let total = fieldValues["memoryTotalMiB"] {
                device.memoryTotalBytes = try whole(total, max: maxMiB) { fail("\"memoryTotalMiB\" must be a whole number ≥ 0, not \($0)") } * mebibyte
            }
            if let used = fieldValues["memoryUsedMiB"] {
                device.memoryUsedBytes = try whole(used, max: maxMiB) { fail("\"memoryUsedMiB\" must be a whole number ≥ 0, not \($0)") } * mebibyte
            }
            guard device.memoryUsedBytes <= device.memoryTotalBytes else {
                throw fail("\"memoryUsedMiB\" \(device.memoryUsedBytes >> 20) exceeds \"memoryTotalMiB\" \(device.memoryTotalBytes >> 20)")
            }
            if let name = fieldValues["name"] {
                guard case .string(let text) = name else { throw fail("\"name\" must be a string, not \(name.kind)") }
                device.name = text
            }
        default:
            throw fail("the value must be an index or an object with \"index\", not \(value.kind)")
        }
        return device
    }

    /// `value` as a whole number in 0...max, or the error `fail` makes from its description.
    private static func whole(_ value: JSONValue, max: UInt64, _ fail: (String) -> RPCError) throws(RPCError) -> UInt64 {
        guard case .number(let number) = value, number >= 0, number.rounded() == number, number <= Double(max) else {
            throw fail(value.description)
        }
        return UInt64(number)
    }
}

/// `--mock-file FILE`: the GPUs a `GPUMapFile` describes, read again at every sample, so that
/// editing the file (atomically: write another, then rename) changes what watchers see.
public struct MockFileProbe: GPUProbe {
    public let path: String
    public var source: String { "mock-file" }

    /// A probe of `path`, which must parse now (so that a bad file fails at start).
    public init(path: String) throws(RPCError) {
        self.path = path
        _ = try GPUMapFile.load(path)
    }

    public func sample() throws(RPCError) -> [Fma_V1_GPUDevice] {
        try GPUMapFile.load(path)
    }
}
