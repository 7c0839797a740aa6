/// A JSON patch (RFC 6902): a list of operations applied in order, all or nothing.
public struct JSONPatch: Sendable, Hashable {
    public enum Operation: Sendable, Hashable {
        case add(path: JSONPointer, value: JSONValue)
        case remove(path: JSONPointer)
        case replace(path: JSONPointer, value: JSONValue)
        case move(from: JSONPointer, path: JSONPointer)
        case copy(from: JSONPointer, path: JSONPointer)
        case test(path: JSONPointer, value: JSONValue)
    }

    public var operations: [Operation]

    public init(_ operations: [Operation]) {
        self.operations = operations
    }

    /// Reads a patch document: an array of objects with `op`, `path` and, per op, `value` or
    /// `from`. The error names the operation (by index) and the missing or wrong member.
    public init(parsing document: JSONValue) throws(JSONError) {
        guard let items = document.array else { throw JSONError("a JSON patch must be an array of operations, got \(document.typeName)") }
        var operations: [Operation] = []
        for (index, item) in items.enumerated() {
            guard let op = item["op"]?.string else { throw JSONError("JSON patch operation \(index): missing \"op\"") }
            guard let pathText = item["path"]?.string else { throw JSONError("JSON patch operation \(index): missing \"path\"") }
            let path = try JSONPointer(parsing: pathText)
            func value() throws(JSONError) -> JSONValue {
                guard let v = item["value"] else { throw JSONError("JSON patch operation \(index) (\(op)): missing \"value\"") }
                return v
            }
            func from() throws(JSONError) -> JSONPointer {
                guard let f = item["from"]?.string else { throw JSONError("JSON patch operation \(index) (\(op)): missing \"from\"") }
                return try JSONPointer(parsing: f)
            }
            switch op {
            case "add": operations.append(.add(path: path, value: try value()))
            case "remove": operations.append(.remove(path: path))
            case "replace": operations.append(.replace(path: path, value: try value()))
            case "move": operations.append(.move(from: try from(), path: path))
            case "copy": operations.append(.copy(from: try from(), path: path))
            case "test": operations.append(.test(path: path, value: try value()))
            default: throw JSONError("JSON patch operation \(index): unknown op \"\(op)\"")
            }
        }
        self.operations = operations
    }

    /// `document` with every operation applied; the first failing operation fails the patch.
    public func apply(to document: JSONValue) throws(JSONError) -> JSONValue {
        var result = document
        for (index, operation) in operations.enumerated() {
            do {
                result = try Self.apply(operation, to: result)
            } catch {
                throw JSONError("JSON patch operation \(index): \(error.message)")
            }
        }
        return result
    }

    private static func apply(_ operation: Operation, to document: JSONValue) throws(JSONError) -> JSONValue {
        switch operation {
        case .add(let path, let value):
            return try path.adding(value, in: document)
        case .remove(let path):
            return try path.removing(in: document).document
        case .replace(let path, let value):
            guard path.resolve(in: document) != nil else { throw JSONError("replace: no value at \(path)") }
            return try path.replacing(value, in: document)
        case .move(let from, let path):
            if path.tokens.starts(with: from.tokens), path.tokens.count > from.tokens.count {
                throw JSONError("move: \(from) cannot move into its own child \(path)")
            }
            let (removed, value) = try from.removing(in: document)
            return try path.adding(value, in: removed)
        case .copy(let from, let path):
            guard let value = from.resolve(in: document) else { throw JSONError("copy: no value at \(from)") }
            return try path.adding(value, in: document)
        case .test(let path, let value):
            guard let actual = path.resolve(in: document) else { throw JSONError("test: no value at \(path)") }
            guard actual == value else { throw JSONError("test failed at \(path)") }
            return document
        }
    }
}

/// A JSON pointer (RFC 6901), e.g. `/metadata/labels/app` or `/spec/containers/0`.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public var tokens: [String]

    public init(tokens: [String]) {
        self.tokens = tokens
    }

    public init(parsing text: String) throws(JSONError) {
        if text.isEmpty {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else { throw JSONError("a JSON pointer must be empty or start with '/': \"\(text)\"") }
        tokens = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).replacing("~1", with: "/").replacing("~0", with: "~")
        }
    }

    public var description: String {
        tokens.isEmpty ? "\"\"" : "\"" + tokens.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined() + "\""
    }

    public func resolve(in document: JSONValue) -> JSONValue? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let array):
                guard let index = Int(token), String(index) == token, array.indices.contains(index) else { return nil }
                current = array[index]
            default:
                return nil
            }
        }
        return current
    }

    func adding(_ value: JSONValue, in document: JSONValue) throws(JSONError) -> JSONValue {
        try modify(document, tokens[...]) { (container, last) throws(JSONError) in
            switch container {
            case .object(var object):
                object[last] = value
                return .object(object)
            case .array(var array):
                if last == "-" {
                    array.append(value)
                } else {
                    guard let index = Int(last), String(index) == last, index >= 0, index <= array.count else {
                        throw JSONError("add: index \(last) out of range at \(self)")
                    }
                    array.insert(value, at: index)
                }
                return .array(array)
            default:
                throw JSONError("add: the parent of \(self) is not an object or array")
            }
        }
    }

    func replacing(_ value: JSONValue, in document: JSONValue) throws(JSONError) -> JSONValue {
        try modify(document, tokens[...]) { (container, last) throws(JSONError) in
            switch container {
            case .object(var object):
                object[last] = value
                return .object(object)
            case .array(var array):
                guard let index = Int(last), array.indices.contains(index) else { throw JSONError("replace: index \(last) out of range at \(self)") }
                array[index] = value
                return .array(array)
            default:
                throw JSONError("replace: the parent of \(self) is not an object or array")
            }
        }
    }

    func removing(in document: JSONValue) throws(JSONError) -> (document: JSONValue, removed: JSONValue) {
        guard let removed = resolve(in: document) else { throw JSONError("remove: no value at \(self)") }
        let result = try modify(document, tokens[...]) { (container, last) throws(JSONError) in
            switch container {
            case .object(var object):
                object[last] = nil
                return .object(object)
            case .array(var array):
                guard let index = Int(last), array.indices.contains(index) else { throw JSONError("remove: index \(last) out of range at \(self)") }
                array.remove(at: index)
                return .array(array)
            default:
                throw JSONError("remove: the parent of \(self) is not an object or array")
            }
        }
        return (result, removed)
    }

    /// Rebuilds `document` with the container at `path.dropLast()` changed by `change`.
    private func modify(
        _ document: JSONValue, _ path: ArraySlice<String>,
        _ change: (JSONValue, String) throws(JSONError) -> JSONValue
    ) throws(JSONError) -> JSONValue {
        guard let first = path.first else {
            throw JSONError("the whole document cannot be the target of this operation")
        }
        if path.count == 1 {
            return try change(document, first)
        }
        switch document {
        case .object(var object):
            guard let child = object[first] else { throw JSONError("no value at \(self) (missing \"\(first)\")") }
            object[first] = try modify(child, path.dropFirst(), change)
            return .object(object)
        case .array(var array):
            guard let index = Int(first), array.indices.contains(index) else { throw JSONError("no value at \(self) (index \(first))") }
            array[index] = try modify(array[index], path.dropFirst(), change)
            return .array(array)
        default:
            throw JSONError("no value at \(self)")
        }
    }
}
