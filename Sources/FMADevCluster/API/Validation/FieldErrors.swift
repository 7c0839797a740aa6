import FMAJSON

/// The invalid fields of one object, collected in order, worded as the API server words them
/// ("Required value", "Invalid value: 0: must be at least 1", "Duplicate value: …").
struct FieldErrors {
    private(set) var causes: [(field: String, message: String)] = []

    mutating func required(_ field: String) {
        causes.append((field, "Required value"))
    }

    mutating func invalid(_ field: String, _ value: JSONValue, _ why: String) {
        causes.append((field, "Invalid value: \(Self.show(value)): \(why)"))
    }

    mutating func duplicate(_ field: String, _ value: JSONValue) {
        causes.append((field, "Duplicate value: \(Self.show(value))"))
    }

    mutating func append(contentsOf other: FieldErrors) {
        causes.append(contentsOf: other.causes)
    }

    /// A value as the message shows it: strings quoted, others as JSON, long ones cut.
    static func show(_ value: JSONValue) -> String {
        let text = value.serializedString()
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }

    // MARK: - Typed reads that record what is wrong

    /// The object at `field`; records a missing (when `required`) or non-object value.
    mutating func object(_ value: JSONValue?, _ field: String, required: Bool) -> JSONObject? {
        guard let value, !value.isNull else {
            if required { self.required(field) }
            return nil
        }
        guard let object = value.object else {
            invalid(field, value, "must be of type object")
            return nil
        }
        return object
    }

    /// The string at `field`; records a missing (when `required`), empty (when required) or
    /// non-string value.
    mutating func string(_ value: JSONValue?, _ field: String, required: Bool) -> String? {
        guard let value, !value.isNull else {
            if required { self.required(field) }
            return nil
        }
        guard let text = value.string else {
            invalid(field, value, "must be of type string")
            return nil
        }
        if required && text.isEmpty {
            self.required(field)
            return nil
        }
        return text
    }

    /// The integer at `field` within `range`; records a missing (when `required`), non-integer
    /// or out-of-range value.
    mutating func integer(_ value: JSONValue?, _ field: String, required: Bool, in range: ClosedRange<Int64>) -> Int64? {
        guard let value, !value.isNull else {
            if required { self.required(field) }
            return nil
        }
        guard let number = value.int else {
            invalid(field, value, "must be of type integer")
            return nil
        }
        if number < range.lowerBound {
            invalid(field, value, "should be greater than or equal to \(range.lowerBound)")
            return nil
        }
        if number > range.upperBound {
            invalid(field, value, "should be less than or equal to \(range.upperBound)")
            return nil
        }
        return number
    }

    /// A map of strings at `field`; records a non-object or a non-string member.
    mutating func stringMap(_ value: JSONValue?, _ field: String) -> [(key: String, value: String)] {
        guard let object = object(value, field, required: false) else { return [] }
        var result: [(String, String)] = []
        for (key, member) in object {
            guard let text = member.string else {
                invalid("\(field)[\(key)]", member, "must be of type string")
                continue
            }
            result.append((key, text))
        }
        return result
    }

    /// Checks `labels` (a metadata-style map at `field`): keys are qualified names, values
    /// label values.
    mutating func labels(_ value: JSONValue?, _ field: String) {
        for (key, text) in stringMap(value, field) {
            if let problem = NameRules.qualifiedName(key) { invalid(field, .string(key), problem) }
            if let problem = NameRules.labelValue(text) { invalid("\(field)[\(key)]", .string(text), problem) }
        }
    }

    /// Checks annotation keys at `field`.
    mutating func annotations(_ value: JSONValue?, _ field: String) {
        for (key, _) in stringMap(value, field) {
            if let problem = NameRules.qualifiedName(key) { invalid(field, .string(key), problem) }
        }
    }
}

extension Int64 {
    static let int32Max = Int64(Int32.max)
    static let int32Min = Int64(Int32.min)
}
