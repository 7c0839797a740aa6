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
                throw .invalidArgument(field: "env_vars", "environment variable name \(RPCError.quote(name)) is invalid: use letters, digits and '_', not starting with a digit")
            }
        }
        for uuid in request.gpuUuids where uuid.isEmpty {
            throw .invalidArgument(field: "gpu_uuids", "a GPU UUID is empty")
        }
        try Self.checkSize(request, options: options)
        self.id = id
        self.options = options
        self.optionsString = request.optionsString
        self.env = request.envVars
        self.gpuUUIDs = request.gpuUuids
        self.annotations = request.annotations
    }

    /// The most a create may carry in options, environment, GPU UUIDs and annotations together:
    /// each record is journaled and answered in every list, so none may make those too large.
    static let maxRequestBytes = 64 * 1024

    /// The request's size limit, and the bytes no process argument, environment or key may hold.
    static func checkSize(_ request: Fma_V1_CreateInstanceRequest, options: [String]) throws(RPCError) {
        var total = request.optionsString.utf8.count + request.gpuUuids.reduce(0) { $0 + $1.utf8.count }
        for option in options {
            total += option.utf8.count
            guard !option.utf8.contains(0) else {
                throw .invalidArgument(field: "options", "option \(RPCError.quote(option)) holds a NUL byte, which no process argument can")
            }
        }
        for (name, value) in request.envVars {
            total += name.utf8.count + value.utf8.count
            guard !value.utf8.contains(0) else {
                throw .invalidArgument(field: "env_vars", "the value of environment variable \(name) holds a NUL byte, which no environment can")
            }
        }
        for (key, value) in request.annotations {
            total += key.utf8.count + value.utf8.count
            guard !key.isEmpty else { throw .invalidArgument(field: "annotations", "an annotation key is empty") }
        }
        guard total <= maxRequestBytes else {
            throw .invalidArgument(field: "options", "the instance's options, environment, GPU UUIDs and annotations total \(total) bytes, "
                                   + "more than the \(maxRequestBytes) a launcher keeps for one instance")
        }
    }

    static func validate(id: String) throws(RPCError) {
        let bytes = Array(id.utf8)
        guard !bytes.isEmpty, bytes.count <= 128 else {
            throw .invalidArgument(field: "id", "instance id \(RPCError.quote(id)) must be 1 to 128 characters long")
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
            throw .invalidArgument(field: "id", "instance id \(RPCError.quote(id)) has a character that is not allowed at position \(offset + 1): use \(idPattern)")
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
