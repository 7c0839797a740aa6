import FMARPC
import FMAWire
import Foundation

/// A validated CreateInstance request: what to run and how it is described.
struct InstanceSpec: Sendable, Codable, Equatable {
    var id: String
    var options: [String]
    var optionsString: String
    var env: [String: String]
    var gpuUUIDs: [String]
    var annotations: [String: String]

    /// The largest instance id and its alphabet: safe in file names, labels and URLs.
    static let idPattern = "[A-Za-z0-9][A-Za-z0-9._-]{0,127}"

    /// Checks the request field by field; an error names the field and the value.
    init(_ request: Fma_V1_CreateInstanceRequest, generatedID: @autoclosure () -> String) throws(RPCError) {
        let id = request.id.isEmpty ? generatedID() : request.id
        try Self.validate(id: id)
        if !request.options.isEmpty, !request.optionsString.isEmpty {
            throw .invalidArgument(field: "options", "give options or options_string, not both")
        }
        var options = request.options
        if !request.optionsString.isEmpty {
            do {
                options = try ShellWords.split(request.optionsString)
            } catch {
                throw .invalidArgument(field: "options_string", "options_string cannot be split: \(error)")
            }
        }
        guard !options.isEmpty else {
            throw .invalidArgument(field: "options", "options are empty: give the server's arguments, e.g. --model NAME --port 8000")
        }
        for (name, _) in request.envVars {
            guard Self.isEnvironmentName(name) else {
                throw .invalidArgument(field: "env_vars", "environment variable name '\(name)' is invalid: use letters, digits and '_', not starting with a digit")
            }
        }
        for uuid in request.gpuUuids where uuid.isEmpty {
            throw .invalidArgument(field: "gpu_uuids", "a GPU UUID is empty")
        }
        self.id = id
        self.options = options
        self.optionsString = request.optionsString
        self.env = request.envVars
        self.gpuUUIDs = request.gpuUuids
        self.annotations = request.annotations
    }

    static func validate(id: String) throws(RPCError) {
        let bytes = Array(id.utf8)
        guard !bytes.isEmpty, bytes.count <= 128 else {
            throw .invalidArgument(field: "id", "instance id '\(id)' must be 1 to 128 characters long")
        }
        func allowed(_ byte: UInt8, first: Bool) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return !first
            default:
                return false
            }
        }
        for (offset, byte) in bytes.enumerated() where !allowed(byte, first: offset == 0) {
            throw .invalidArgument(field: "id", "instance id '\(id)' has a character that is not allowed at position \(offset + 1): use \(idPattern)")
        }
    }

    static func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }

    /// The value of `--port N` or `--port=N` in the options: where the admin API answers.
    var port: UInt32? {
        for (index, option) in options.enumerated() {
            if option == "--port", index + 1 < options.count { return UInt32(options[index + 1]) }
            if option.hasPrefix("--port=") { return UInt32(option.dropFirst("--port=".count)) }
        }
        return nil
    }
}
