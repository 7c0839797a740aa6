import FMAJSON
import Testing

@Suite("JSON values")
struct JSONValueTests {
    @Test("parse and serialize keep members, their order and exact integers")
    func roundTrip() throws {
        let text = #"{"z":1,"a":[true,false,null],"m":{"n":-12345678901234,"f":1.5,"e":2e3},"s":"q\"\\\n\u00e9\ud83d\ude00"}"#
        let value = try JSONValue(parsing: text)
        #expect(value["z"] == .int(1))
        #expect(value.object?.keys == ["z", "a", "m", "s"])
        #expect(value[path: ["m", "n"]] == .int(-12345678901234))
        #expect(value[path: ["m", "f"]] == .double(1.5))
        #expect(value[path: ["m", "e"]]?.int == 2000)
        #expect(value["s"]?.string == "q\"\\\né😀")
        let again = try JSONValue(parsing: value.serialized())
        #expect(again == value)
        #expect(String(decoding: value.serialized(), as: UTF8.self).hasPrefix(#"{"z":1,"a":[true,false,null],"#))
    }

    @Test("malformed texts are errors that say where", arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "tru", "\"\\x\"", "\"a\u{01}\"", "{} x", "\"\\ud800\"", "[1 2]",
    ])
    func malformed(_ text: String) {
        #expect(throws: JSONError.self) { try JSONValue(parsing: text) }
    }

    @Test("nesting beyond the limit is refused instead of overflowing the stack")
    func depthLimit() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONError.self) { try JSONValue(parsing: deep) }
        #expect((try? JSONValue(parsing: "[[[1]]]", maxDepth: 3)) != nil)
    }

    @Test("object members: set, replace in place, remove, paths")
    func objectMembers() {
        var object: JSONObject = ["a": 1, "b": 2]
        object["a"] = 3
        object["c"] = 4
        object["b"] = nil
        #expect(object.keys == ["a", "c"])
        object[path: ["x", "y", "z"]] = "deep"
        #expect(object[path: ["x", "y", "z"]] == "deep")
        object[path: ["x", "y", "z"]] = nil
        #expect(object[path: ["x", "y"]] == .object([:]))
        let ab: JSONObject = ["k": 1, "l": 2]
        let ba: JSONObject = ["l": 2, "k": 1]
        #expect(ab == ba)
    }

    @Test("objects of any size: lookups, removal, duplicate keys, order-free equality and hashing", arguments: [3, 12, 13, 200])
    func objectsOfAnySize(_ size: Int) throws {
        var object = JSONObject()
        for i in 0..<size { object["k\(i)"] = .int(Int64(i)) }
        #expect(object.count == size)
        #expect(object["k\(size - 1)"] == .int(Int64(size - 1)))
        object["k0"] = nil
        object["k\(size / 2)"] = "middle"
        #expect(object["k0"] == nil)
        #expect(object.keys.first == (size > 1 ? "k1" : nil))
        #expect(object["k\(size - 1)"] == (size / 2 == size - 1 ? "middle" : .int(Int64(size - 1))))
        object["k0"] = true
        #expect(object.keys.last == "k0")
        #expect(object["k0"] == true)

        let reversed = JSONObject(object.reversed().map { ($0.key, $0.value) })
        #expect(reversed == object)
        #expect(reversed.hashValue == object.hashValue)
        var different = reversed
        different["k0"] = false
        #expect(different != object)

        let text = "{" + (0..<size).map { #""d\#($0 % 3)":\#($0)"# }.joined(separator: ",") + "}"
        let parsed = try #require(try JSONValue(parsing: text).object)
        #expect(parsed.count == min(size, 3))
        #expect(parsed.keys == Array(["d0", "d1", "d2"].prefix(min(size, 3))))
        #expect(parsed["d0"] == .int(Int64((size - 1) / 3 * 3)))
    }

    @Test("merge patch (RFC 7386 examples) and the patch between two values")
    func mergePatch() throws {
        let target = try JSONValue(parsing: #"{"a":"b","c":{"d":"e","f":"g"},"keep":[1,2]}"#)
        let patch = try JSONValue(parsing: #"{"a":"z","c":{"f":null},"new":{"x":1}}"#)
        let result = target.applyingMergePatch(patch)
        #expect(result == (try JSONValue(parsing: #"{"a":"z","c":{"d":"e"},"keep":[1,2],"new":{"x":1}}"#)))
        let diff = JSONValue.mergePatch(from: target, to: result)
        #expect(target.applyingMergePatch(diff) == result)
        #expect(diff["keep"] == nil)
        #expect(JSONValue.mergePatch(from: result, to: result) == .object([:]))
    }

    @Test("JSON patch: all operations, all-or-nothing, errors name the operation")
    func jsonPatch() throws {
        let document = try JSONValue(parsing: #"{"metadata":{"labels":{"a/b":"1"}},"list":[1,2,3]}"#)
        let patch = try JSONPatch(parsing: JSONValue(parsing: #"""
        [{"op":"test","path":"/list/0","value":1},
         {"op":"add","path":"/list/-","value":4},
         {"op":"add","path":"/list/0","value":0},
         {"op":"remove","path":"/list/1"},
         {"op":"replace","path":"/metadata/labels/a~1b","value":"2"},
         {"op":"copy","from":"/metadata/labels","path":"/copied"},
         {"op":"move","from":"/copied","path":"/moved"}]
        """#))
        let result = try patch.apply(to: document)
        #expect(result["list"] == [0, 2, 3, 4])
        #expect(result[path: ["metadata", "labels", "a/b"]] == "2")
        #expect(result["moved"] == ["a/b": "2"])
        #expect(result["copied"] == nil)

        let failing = try JSONPatch(parsing: JSONValue(parsing: #"[{"op":"replace","path":"/list/0","value":9},{"op":"test","path":"/list/0","value":1}]"#))
        #expect(throws: JSONError.self) { try failing.apply(to: document) }
        do {
            _ = try JSONPatch(parsing: JSONValue(parsing: #"[{"op":"add","path":"/x"}]"#))
            Issue.record("a missing value must fail")
        } catch {
            #expect(error.message.contains("operation 0") && error.message.contains("value"))
        }
    }
}
