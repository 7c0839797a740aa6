public import FMAWire
import Foundation
public import Logging

/// Which GPUs the device plugin gave this container, from its environment.
///
/// `NVIDIA_VISIBLE_DEVICES` decides when it is set: empty, `void` or `none` mean no GPU; `all`
/// means every GPU the device source reports; otherwise it is a comma-separated list of GPU
/// UUIDs (`GPU-…`, `MIG-…`) or indices. When it is unset, `CUDA_VISIBLE_DEVICES` is used if all
/// its entries are UUIDs. With neither, every GPU the device source reports is taken (what
/// FMA's requester does with `nvidia-smi`).
public enum VisibleDevices {
    public enum Selection: Sendable, Equatable {
        case none
        case all
        /// UUIDs or indices, in the order given.
        case list([String])
    }

    public static func selection(environment: [String: String]) -> Selection {
        if let nvidia = environment["NVIDIA_VISIBLE_DEVICES"] {
            let trimmed = nvidia.trimmingCharacters(in: .whitespaces)
            switch trimmed.lowercased() {
            case "", "void", "none": return .none
            case "all": return .all
            default: return .list(entries(trimmed))
            }
        }
        if let cuda = environment["CUDA_VISIBLE_DEVICES"] {
            let list = entries(cuda)
            if !list.isEmpty, list.allSatisfy(isUUID) { return .list(list) }
        }
        return .all
    }

    /// The UUIDs of `selection`. UUIDs are taken as given; `all` and indices are resolved with
    /// `devices` (nil when there is no device source: then they resolve to nothing, with a
    /// warning).
    public static func resolve(_ selection: Selection, devices: [Fma_V1_GPUDevice]?, logger: Logger) -> [String] {
        switch selection {
        case .none:
            return []
        case .all:
            guard let devices else {
                logger.warning("no device source to list every GPU (no NVML, --inventory or --mock-file): reporting none")
                return []
            }
            return devices.map(\.uuid)
        case .list(let entries):
            return entries.compactMap { entry in
                if isUUID(entry) { return entry }
                if let index = UInt32(entry), let device = devices?.first(where: { $0.index == index }) { return device.uuid }
                logger.warning("skipping a visible device that is neither a UUID nor a known index", metadata: ["entry": "\(entry)"])
                return nil
            }
        }
    }

    /// The UUIDs `environment` selects, sampling `devices` when `all` or indices need it.
    public static func accelerators(environment: [String: String], devices: (any GPUProbe)?, logger: Logger) async -> [String] {
        let selection = selection(environment: environment)
        var sampled: [Fma_V1_GPUDevice]?
        if let devices, selection != .none {
            do {
                sampled = try await devices.sample()
            } catch {
                logger.warning("the device source failed; GPUs given by index or as \"all\" are not resolved",
                               metadata: ["source": "\(devices.source)", "error": "\(error.message)"])
            }
        }
        return resolve(selection, devices: sampled, logger: logger)
    }

    static func isUUID(_ entry: String) -> Bool {
        entry.hasPrefix("GPU-") || entry.hasPrefix("MIG-")
    }

    private static func entries(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
