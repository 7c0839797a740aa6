@testable import FMAJSON
import Testing

@Suite("JSON object keys shared between parsed documents")
struct JSONKeyTableTests {
    @Test("long keys are stored once up to the capacity; short and overlong keys are never stored; values are unchanged")
    func bounded() {
        let table = JSONKeyTable(capacity: 2)
        #expect(table.intern("short") == "short")
        #expect(table.intern(String(repeating: "k", count: 97)) == String(repeating: "k", count: 97))
        #expect(table.count == 0)
        #expect(table.intern("creationTimestamp") == "creationTimestamp")
        #expect(table.intern("ownerReferences-x") == "ownerReferences-x")
        #expect(table.intern("creationTimestamp") == "creationTimestamp")
        #expect(table.count == 2)
        // Full: a new key comes back as given, and is not stored.
        #expect(table.intern("lastTransitionTime") == "lastTransitionTime")
        #expect(table.count == 2)
    }

    @Test("documents parsed with interned keys read and write back as before")
    func roundTrip() throws {
        let text = #"{"metadata":{"creationTimestamp":"2026-01-01T00:00:00Z","annotations":{"dual-pods.llm-d.ai/requester":"u r"}},"items":[1,2,3]}"#
        let first = try JSONValue(parsing: text)
        let second = try JSONValue(parsing: text)
        #expect(first == second)
        #expect(first[path: ["metadata", "annotations"]]?["dual-pods.llm-d.ai/requester"]?.string == "u r")
        #expect(first["items"]?.array?.count == 3)
        #expect(first.serializedString() == text)
    }
}
