@testable import FMAController
import FMAJSON
import FMAKubeModel
import Testing

@Suite("the controller's Pod cache")
struct PodCacheTransformTests {
    @Test("cached Pods leave out managedFields and keep everything else")
    func dropsManagedFields() throws {
        let json = try JSONValue(parsing: """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns","resourceVersion":"7",
             "labels":{"a":"b"},"managedFields":[{"manager":"kubectl","operation":"Update","fieldsV1":{"f:metadata":{}}}]},
             "spec":{"nodeName":"n1"}}
            """).object!
        let cached = DualPodsController.withoutManagedFields(Pod(json: json))
        #expect(cached.json["metadata"]?["managedFields"] == nil)
        #expect(cached.metadata.labels == ["a": "b"] && cached.metadata.resourceVersion == "7" && cached.spec.nodeName == "n1")
        // A Pod without them is handed back as it is.
        #expect(DualPodsController.withoutManagedFields(cached) == cached)
    }
}
