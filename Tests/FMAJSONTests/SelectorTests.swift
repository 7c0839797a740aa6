import FMAJSON
import FMAKubeModel
import Testing

@Suite("Label and field selectors")
struct SelectorTests {
    @Test("the string form: equality, inequality, sets, existence")
    func labelSelectorText() throws {
        let selector = try LabelSelector(parsing: "app=web, tier!=db,env in (prod, staging),!legacy,team,zone notin (z1)")
        #expect(selector.requirements.count == 6)
        #expect(selector.matches(["app": "web", "env": "prod", "team": "x"]))
        #expect(!selector.matches(["app": "web", "env": "prod", "team": "x", "legacy": "1"]))
        #expect(!selector.matches(["app": "web", "env": "dev", "team": "x"]))
        #expect(!selector.matches(["app": "web", "env": "prod", "team": "x", "tier": "db"]))
        #expect(!selector.matches(["app": "web", "env": "prod", "team": "x", "zone": "z1"]))
        #expect(try LabelSelector(parsing: "").matches([:]))
        #expect(throws: SelectorError.self) { try LabelSelector(parsing: "env in prod") }
        #expect(throws: SelectorError.self) { try LabelSelector(parsing: "a b c") }
    }

    @Test("a metav1.LabelSelector object")
    func labelSelectorObject() throws {
        let object = try JSONValue(parsing: #"{"matchLabels":{"a":"1"},"matchExpressions":[{"key":"b","operator":"In","values":["x","y"]},{"key":"c","operator":"DoesNotExist"}]}"#)
        let selector = try LabelSelector(object: object)
        #expect(selector.matches(["a": "1", "b": "y"]))
        #expect(!selector.matches(["a": "1", "b": "y", "c": ""]))
        #expect(!selector.matches(["a": "2", "b": "y"]))
        #expect(throws: SelectorError.self) {
            try LabelSelector(object: JSONValue(parsing: #"{"matchExpressions":[{"key":"b","operator":"Near"}]}"#))
        }
        #expect(try LabelSelector(parsing: selector.description) == selector)
    }

    @Test("field selectors read dotted paths; a missing field is empty")
    func fieldSelector() throws {
        let pod: JSONObject = ["metadata": ["name": "p1"], "spec": ["nodeName": "node-1"], "status": ["phase": "Running"]]
        #expect(try FieldSelector(parsing: "spec.nodeName=node-1,metadata.name==p1").matches(pod))
        #expect(!(try FieldSelector(parsing: "spec.nodeName!=node-1").matches(pod)))
        #expect(try FieldSelector(parsing: "spec.schedulerName=").matches(pod))
        #expect(throws: SelectorError.self) { try FieldSelector(parsing: "spec.nodeName") }
    }
}
