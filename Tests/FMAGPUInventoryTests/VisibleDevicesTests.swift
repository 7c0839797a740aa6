import FMAGPUInventory
import FMARPC
import Testing

/// Which GPUs a requester reports, from its environment.
@Suite("Visible devices")
struct VisibleDevicesTests {
    @Test("NVIDIA_VISIBLE_DEVICES: UUID lists, all, none, void and empty")
    func nvidia() {
        #expect(VisibleDevices.selection(environment: ["NVIDIA_VISIBLE_DEVICES": "GPU-a, GPU-b,,"]) == .list(["GPU-a", "GPU-b"]))
        #expect(VisibleDevices.selection(environment: ["NVIDIA_VISIBLE_DEVICES": "all"]) == .all)
        for nothing in ["", "none", "void", " NONE "] {
            #expect(VisibleDevices.selection(environment: ["NVIDIA_VISIBLE_DEVICES": nothing, "CUDA_VISIBLE_DEVICES": "GPU-x"]) == .none)
        }
    }

    @Test("CUDA_VISIBLE_DEVICES counts only when NVIDIA_VISIBLE_DEVICES is unset and it lists UUIDs")
    func cuda() {
        #expect(VisibleDevices.selection(environment: ["CUDA_VISIBLE_DEVICES": "GPU-a,MIG-b"]) == .list(["GPU-a", "MIG-b"]))
        #expect(VisibleDevices.selection(environment: ["CUDA_VISIBLE_DEVICES": "0,1"]) == .all)
        #expect(VisibleDevices.selection(environment: [:]) == .all)
    }

    @Test("indices and all resolve through the device source; without one they give nothing")
    func resolve() {
        let devices = mockDevices(count: 3)
        #expect(VisibleDevices.resolve(.list(["2", "GPU-z", "9"]), devices: devices, logger: .silent) == [devices[2].uuid, "GPU-z"])
        #expect(VisibleDevices.resolve(.all, devices: devices, logger: .silent) == devices.map(\.uuid))
        #expect(VisibleDevices.resolve(.all, devices: nil, logger: .silent) == [])
        #expect(VisibleDevices.resolve(.list(["GPU-z", "0"]), devices: nil, logger: .silent) == ["GPU-z"])
        #expect(VisibleDevices.resolve(.none, devices: devices, logger: .silent) == [])
    }

    @Test("a requester's memory: MiB per accelerator from the source; those it does not know are left out")
    func memory() async throws {
        var devices = mockDevices(count: 2)
        devices[1].memoryUsedBytes = (1536 << 20) + 1
        let requester = Requester(accelerators: [devices[1].uuid, "GPU-elsewhere"], devices: ScriptedProbe(devices))
        #expect(try await requester.acceleratorMemoryMiB() == [devices[1].uuid: 1536])
        let blind = Requester(accelerators: ["GPU-a"], devices: nil, missingDevicesReason: "NVML is unavailable (no driver)")
        let error = await #expect(throws: RPCError.self) { _ = try await blind.acceleratorMemoryMiB() }
        #expect(error?.code == .unavailable)
        #expect(error?.message == "GPU memory is unknown: NVML is unavailable (no driver); start the requester with --inventory ADDRESS or --mock-file FILE")
    }
}
