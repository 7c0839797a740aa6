import CFMANVML
public import FMAWire

/// NVML through the `CFMANVML` shim: the library is loaded with dlopen at run time.
///
/// NVML is process-wide: `start` loads and initializes it (NVML counts initializations), `stop`
/// releases one. Every call blocks in the driver; callers keep them off the concurrency pool
/// (`NVMLProbe` runs them on NIO's thread pool).
public enum NVML {
    /// The library loaded unless another is named.
    public static let defaultLibrary = "libnvidia-ml.so.1"

    /// Loads `library` and initializes NVML.
    public static func start(library: String = defaultLibrary) throws(NVMLError) {
        var reason = [CChar](repeating: 0, count: 512)
        guard fma_nvml_load(library, &reason, reason.count) == 0 else {
            throw NVMLError(.unavailable, "cannot load \(library): \(String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        try check(fma_nvml_init(), "nvmlInit", kind: .unavailable)
    }

    /// Releases one `start`.
    public static func stop() {
        _ = fma_nvml_shutdown()
    }

    /// True when `library` loads and NVML initializes (then released again).
    public static func isAvailable(library: String = defaultLibrary) -> Bool {
        do {
            try start(library: library)
            stop()
            return true
        } catch {
            return false
        }
    }

    /// Every GPU NVML sees, in index order, with its memory and compute processes.
    public static func devices() throws(NVMLError) -> [Fma_V1_GPUDevice] {
        var count: UInt32 = 0
        try check(fma_nvml_device_count(&count), "nvmlDeviceGetCount")
        var devices: [Fma_V1_GPUDevice] = []
        for index in 0..<count {
            var handle: fma_nvml_device?
            try check(fma_nvml_device_by_index(index, &handle), "nvmlDeviceGetHandleByIndex(\(index))")
            var device = Fma_V1_GPUDevice()
            device.index = index
            device.uuid = try string(FMA_NVML_UUID_BUFFER_SIZE, "nvmlDeviceGetUUID(\(index))") { fma_nvml_device_uuid(handle, $0, $1) }
            device.name = try string(FMA_NVML_NAME_BUFFER_SIZE, "nvmlDeviceGetName(\(index))") { fma_nvml_device_name(handle, $0, $1) }
            var total: UInt64 = 0
            var used: UInt64 = 0
            try check(fma_nvml_device_memory(handle, &total, &used), "nvmlDeviceGetMemoryInfo(\(index))")
            device.memoryTotalBytes = total
            device.memoryUsedBytes = used
            device.processes = try processes(handle, index: index)
            devices.append(device)
        }
        return devices
    }

    /// The compute processes of a device, by pid; none where the driver does not say.
    private static func processes(_ handle: fma_nvml_device?, index: UInt32) throws(NVMLError) -> [Fma_V1_GPUProcess] {
        var capacity: UInt32 = 16
        while true {
            var records = [fma_nvml_process](repeating: fma_nvml_process(), count: Int(capacity))
            var count = capacity
            let result = fma_nvml_device_processes(handle, &count, &records)
            switch result {
            case FMA_NVML_SUCCESS:
                return records.prefix(Int(count)).map { record in
                    Fma_V1_GPUProcess.with {
                        $0.pid = record.pid
                        $0.usedMemoryBytes = record.used_memory_bytes == UInt64.max ? 0 : record.used_memory_bytes
                    }
                }.sorted { $0.pid < $1.pid }
            case FMA_NVML_ERROR_INSUFFICIENT_SIZE where count > capacity:
                capacity = count + 8  // processes may start meanwhile
            case FMA_NVML_ERROR_NOT_SUPPORTED, FMA_NVML_NOT_LOADED:
                return []
            default:
                try check(result, "nvmlDeviceGetComputeRunningProcesses(\(index))")
            }
        }
    }

    private static func string(_ size: Int32, _ call: String,
                               _ body: (UnsafeMutablePointer<CChar>, UInt32) -> Int32) throws(NVMLError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(size))
        try check(buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, UInt32(size)) }, call)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func check(_ result: Int32, _ call: String, kind: NVMLError.Kind = .failed) throws(NVMLError) {
        guard result != FMA_NVML_SUCCESS else { return }
        throw NVMLError(kind, "\(call) failed: \(String(cString: fma_nvml_error_string(result))) (NVML error \(result))")
    }
}

/// NVML could not be used: the library is missing or does not initialize (`unavailable`), or a
/// call failed (`failed`). The message names the library or the call and NVML's reason.
public struct NVMLError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case unavailable, failed }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
