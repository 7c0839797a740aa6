import Crypto
import FMAJSON
import Foundation

/// The hashes that name instances and launcher templates: SHA-256 written as base64 without
/// padding, over a canonical serialization (object keys sorted at every depth), so equal content
/// always gives the same name whatever order a user wrote it in.
enum Hashing {
    static func sha256(_ bytes: [UInt8]) -> Data {
        Data(SHA256.hash(data: bytes))
    }

    /// Standard base64 without `=` padding (FMA's template and nominal hashes).
    static func base64(_ data: Data) -> String {
        data.base64EncodedString().replacing("=", with: "")
    }

    /// URL-safe base64 without padding (FMA's instance ids: valid label values).
    static func base64URL(_ data: Data) -> String {
        base64(data).replacing("+", with: "-").replacing("/", with: "_")
    }

    /// `value` with every object's keys sorted, serialized compactly.
    static func canonicalBytes(_ value: JSONValue) -> [UInt8] {
        value.canonicalSerialized()
    }
}
