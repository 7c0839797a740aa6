import FMAJSON

/// The `/openapi/v2` document in the protobuf form Kubernetes clients ask for (client-go reads
/// `/openapi/v2` only as protobuf): the message `openapi.v2.Document` of the OpenAPI v2 proto
/// definitions, encoded from the Swagger JSON that `OpenAPIDocument.swagger` makes. Only what
/// that JSON holds is encoded: info, PATCH operations with query parameters, responses and
/// vendor extensions, and schemas with `$ref`, description, type, items, allOf and properties.
/// Vendor extension values travel as YAML text, which JSON text is.
enum SwaggerProtobuf {
    /// What it is answered with (clients ask with this or the older `…spec.v2@v1.0+protobuf`).
    static let mediaType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

    /// Whether an `Accept` header asks for the protobuf form.
    static func accepted(_ accept: String) -> Bool {
        accept.contains("com.github.proto-openapi.spec.v2")
    }

    static func encode(_ swagger: JSONObject) -> [UInt8] {
        var out = Writer()
        out.string(1, swagger["swagger"]?.string)
        out.message(2) { info in
            info.string(1, swagger[path: ["info", "title"]]?.string)
            info.string(2, swagger[path: ["info", "version"]]?.string)
        }
        out.message(8) { paths in
            for (path, item) in swagger["paths"]?.object ?? [:] {
                paths.message(2) { named in
                    named.string(1, path)
                    named.message(2) { pathItem in
                        if let patch = item["patch"]?.object { pathItem.message(8) { operation(&$0, patch) } }
                    }
                }
            }
        }
        out.message(9) { definitions in
            for (name, value) in swagger["definitions"]?.object ?? [:] {
                definitions.message(1) { named in
                    named.string(1, name)
                    named.message(2) { schema(&$0, value.object ?? [:]) }
                }
            }
        }
        return out.bytes
    }

    private static func operation(_ out: inout Writer, _ operation: JSONObject) {
        for parameter in operation["parameters"]?.array ?? [] {
            // ParametersItem.parameter → Parameter.non_body_parameter → query_parameter_sub_schema
            out.message(8) { item in
                item.message(1) { $0.message(2) { $0.message(3) { query in
                    query.string(2, parameter["in"]?.string)
                    query.string(3, parameter["description"]?.string)
                    query.string(4, parameter["name"]?.string)
                    query.string(6, parameter["type"]?.string)
                    if parameter["uniqueItems"]?.bool == true { query.bool(20, true) }
                } } }
            }
        }
        out.message(9) { responses in
            for (code, response) in operation["responses"]?.object ?? [:] {
                responses.message(1) { named in
                    named.string(1, code)
                    named.message(2) { $0.message(1) { $0.string(1, response["description"]?.string) } }
                }
            }
        }
        extensions(&out, 13, operation)
    }

    private static func schema(_ out: inout Writer, _ schema: JSONObject) {
        out.string(1, schema["$ref"]?.string)
        out.string(4, schema["description"]?.string)
        if let type = schema["type"]?.string { out.message(22) { $0.string(1, type) } }
        if let items = schema["items"]?.object { out.message(23) { $0.message(1) { self.schema(&$0, items) } } }
        for part in schema["allOf"]?.array ?? [] {
            out.message(24) { self.schema(&$0, part.object ?? [:]) }
        }
        if let properties = schema["properties"]?.object {
            out.message(25) { list in
                for (name, value) in properties {
                    list.message(1) { named in
                        named.string(1, name)
                        named.message(2) { self.schema(&$0, value.object ?? [:]) }
                    }
                }
            }
        }
        extensions(&out, 31, schema)
    }

    /// `x-…` members as NamedAny entries whose Any holds the value as YAML (here JSON) text.
    private static func extensions(_ out: inout Writer, _ field: Int, _ object: JSONObject) {
        for (name, value) in object where name.hasPrefix("x-") {
            out.message(field) { named in
                named.string(1, name)
                named.message(2) { $0.string(2, value.serializedString() + "\n") }
            }
        }
    }

    /// Protobuf wire format, length-delimited fields and bools only.
    struct Writer {
        var bytes: [UInt8] = []

        mutating func varint(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                bytes.append(UInt8(value & 0x7f) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }

        mutating func key(_ field: Int, wireType: UInt64) {
            varint(UInt64(field) << 3 | wireType)
        }

        /// A string field; absent or empty strings are left out, as proto3 does.
        mutating func string(_ field: Int, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            key(field, wireType: 2)
            varint(UInt64(value.utf8.count))
            bytes.append(contentsOf: value.utf8)
        }

        mutating func bool(_ field: Int, _ value: Bool) {
            key(field, wireType: 0)
            varint(value ? 1 : 0)
        }

        mutating func message(_ field: Int, _ build: (inout Writer) -> Void) {
            var inner = Writer()
            build(&inner)
            key(field, wireType: 2)
            varint(UInt64(inner.bytes.count))
            bytes.append(contentsOf: inner.bytes)
        }
    }
}
