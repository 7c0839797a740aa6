/// Why a text is not JSON, or why a patch cannot apply: the message names the place.
public struct JSONError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
