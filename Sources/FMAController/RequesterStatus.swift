import FMAJSON

/// The requester's `status` annotation: `{"Errors":[…]}`, or `{"Errors":null}` when all is well
/// (FMA's Go field name, capital E).
public enum RequesterStatus {
    public static func json(_ errors: [String]) -> String {
        let value: JSONValue = ["Errors": errors.isEmpty ? .null : .array(errors.map { .string($0) })]
        return value.serializedString()
    }

    /// The errors an annotation value carries; nil when it cannot be read.
    public static func errors(_ annotation: String) -> [String]? {
        guard let object = (try? JSONValue(parsing: annotation))?.object else { return nil }
        return object["Errors"]?.array?.compactMap(\.string) ?? []
    }
}
