import FMAGPUInventory
import FMARPC
import Foundation
import Testing

/// `--mock-file`: FMA's gpu-map entry format and fma's extension of it.
@Suite("GPU map files")
struct GPUMapFileTests {
    private func parse(_ json: String) throws(RPCError) -> [(String, UInt32, UInt64, UInt64, String)] {
        try GPUMapFile.parse(Data(json.utf8), origin: "map.json").map {
            ($0.uuid, $0.index, $0.memoryTotalBytes >> 20, $0.memoryUsedBytes >> 20, $0.name)
        }
    }

    private func problem(_ json: String) -> String? {
        do {
            _ = try parse(json)
            return nil
        } catch {
            #expect(error.code == .invalidArgument)
            return error.message
        }
    }

    @Test("FMA's format: UUID → index, listed in index order, 80 GiB each, none used")
    func fmaFormat() throws {
        let devices = try parse(#"{"GPU-b": 1, "GPU-a": 0, "GPU-c": 3}"#)
        #expect(devices.map(\.0) == ["GPU-a", "GPU-b", "GPU-c"])
        #expect(devices.map(\.1) == [0, 1, 3])
        #expect(devices.allSatisfy { $0.2 == 81920 && $0.3 == 0 && $0.4 == "Mock GPU" })
    }

    @Test("the extended form gives memory figures and a name; both forms mix")
    func extended() throws {
        let devices = try parse(#"""
            {"GPU-a": 0, "GPU-b": {"index": 1, "memoryTotalMiB": 40960, "memoryUsedMiB": 1024, "name": "NVIDIA A100-SXM4-40GB"}}
            """#)
        #expect(devices[0].0 == "GPU-a" && devices[0].2 == 81920)
        #expect(devices[1].0 == "GPU-b" && devices[1].1 == 1 && devices[1].2 == 40960 && devices[1].3 == 1024)
        #expect(devices[1].4 == "NVIDIA A100-SXM4-40GB")
        #expect(try parse("{}").isEmpty)
    }

    @Test("bad files are refused naming the entry, the field and the value")
    func errors() {
        #expect(problem(#"{"GPU-a": -1}"#) == #"the GPU map map.json, entry "GPU-a": the index must be a whole number from 0 to 4294967295, not -1"#)
        #expect(problem(#"{"GPU-a": 1.5}"#)?.hasSuffix("not 1.5") == true)
        #expect(problem(#"{"GPU-a": true}"#) == #"the GPU map map.json, entry "GPU-a": the value must be an index or an object with "index", not a boolean"#)
        #expect(problem(#"{"GPU-a": 0, "GPU-b": 0}"#) == "the GPU map map.json gives index 0 to both GPU-a and GPU-b")
        #expect(problem(#"{"GPU-a": {"index": 0, "memoryMiB": 5}}"#)
                == #"the GPU map map.json, entry "GPU-a": unknown field "memoryMiB" (known: index, memoryTotalMiB, memoryUsedMiB, name)"#)
        #expect(problem(#"{"GPU-a": {"memoryUsedMiB": 5}}"#) == #"the GPU map map.json, entry "GPU-a": "index" is missing"#)
        #expect(problem(#"{"GPU-a": {"index": 0, "memoryTotalMiB": 10, "memoryUsedMiB": 11}}"#)
                == #"the GPU map map.json, entry "GPU-a": "memoryUsedMiB" 11 exceeds "memoryTotalMiB" 10"#)
        #expect(problem(#"{"GPU-a": {"index": 0, "name": 7}}"#) == #"the GPU map map.json, entry "GPU-a": "name" must be a string, not a number"#)
        #expect(problem(#"{"": 0}"#) == #"the GPU map map.json, entry "": a GPU UUID must not be empty"#)
        #expect(problem(#"["GPU-a"]"#) == "the GPU map map.json must be a JSON object from GPU UUID to index, not an array")
        #expect(problem("{nope")?.hasPrefix("the GPU map map.json is not valid JSON") == true)
    }

    @Test("a missing file is UNAVAILABLE naming the path")
    func missingFile() {
        let error = #expect(throws: RPCError.self) { try GPUMapFile.load("/nonexistent/map.json") }
        #expect(error?.code == .unavailable)
        #expect(error?.message.hasPrefix("cannot read the GPU map /nonexistent/map.json") == true)
    }
}
