import ArgumentParser
import FMAGPUInventory

/// Where NVML is loaded from, in both modes.
struct NVMLOptions: ParsableArguments {
    @Option(name: .customLong("nvml-library"), help: ArgumentHelp("The NVML library to load.", valueName: "path"))
    var library: String = NVML.defaultLibrary
}
