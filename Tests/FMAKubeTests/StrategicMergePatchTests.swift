import FMAJSON
import FMAKubeModel
import FMATestSupport
import Foundation
import Testing

/// Strategic merge patch as Kubernetes applies it to built-in kinds, without sockets.
@Suite("Strategic merge patch")
struct StrategicMergePatchTests {
    private func object(_ text: String) throws -> JSONObject {
        try #require(try JSONValue(parsing: text).object)
    }

    private func apply(_ patch: String, to original: String) throws -> JSONObject {
        try StrategicMergePatch.apply(try JSONValue(parsing: patch), to: try object(original))
    }

    /// Cases from Kubernetes' documented strategic-merge behaviour, kept as data
    /// (`Tests/data/strategic-merge-patch.json`: name, original, patch, expected).
    @Test("documented cases from the data file")
    func documentedCases() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/Tests/data/strategic-merge-patch.json"))
        let cases = try #require(try JSONValue(parsing: Array(data)).array)
        #expect(cases.count >= 10)
        for entry in cases {
            let name = entry["name"]?.string ?? "?"
            let original = try #require(entry["original"]?.object, "\(name): original")
            let patch = try #require(entry["patch"], "\(name): patch")
            let patched = try StrategicMergePatch.apply(patch, to: original)
            #expect(JSONValue.object(patched) == entry["expected"], "\(name)")
        }
    }

    @Test("containers and env merge by name, ports by containerPort; other lists are replaced; null deletes")
    func mergeKeys() throws {
        let original = """
            {"spec": {"template": {"spec": {"containers": [
              {"name": "a", "image": "one", "args": ["x", "y"], "ports": [{"containerPort": 80, "name": "http"}],
               "env": [{"name": "K", "value": "1"}, {"name": "L", "value": "2"}],
               "resources": {"limits": {"nvidia.com/gpu": "1"}}},
              {"name": "b", "image": "two"}]}}}}
            """
        // FMA's acceptance suite pins a GPU with exactly this patch (kubectl patch rs -p).
        let patched = try apply("""
            {"spec": {"template": {"spec": {"containers": [
              {"name": "a", "args": ["z"], "ports": [{"containerPort": 81}],
               "resources": {"limits": {"nvidia.com/gpu": "0"}, "requests": {"nvidia.com/gpu": "0"}},
               "env": [{"name": "L", "value": "20"}, {"name": "NVIDIA_VISIBLE_DEVICES", "value": "GPU-1"}]},
              {"name": "c", "image": "three"}]}}}}
            """, to: original)
        let containers = try #require(patched[path: ["spec", "template", "spec", "containers"]]?.array)
        #expect(containers.map { $0["name"] } == ["a", "b", "c"])
        let a = try #require(containers.first?.object)
        #expect(a["image"] == "one")
        #expect(a["args"] == ["z"])
        #expect(a["ports"]?.array?.compactMap { $0["containerPort"]?.int } == [80, 81])
        #expect(a["env"] == [["name": "K", "value": "1"], ["name": "L", "value": "20"], ["name": "NVIDIA_VISIBLE_DEVICES", "value": "GPU-1"]])
        #expect(a[path: ["resources", "limits", "nvidia.com/gpu"]] == "0")
        #expect(a[path: ["resources", "requests", "nvidia.com/gpu"]] == "0")
        #expect(containers[1]["image"] == "two")

        let removed = try apply(#"{"spec": {"template": {"spec": {"containers": [{"name": "a", "image": null}]}}}}"#, to: original)
        #expect(removed[path: ["spec", "template", "spec", "containers"]]?.array?.first?["image"] == nil)
    }

    @Test("directives: $patch delete and replace, $setElementOrder, $deleteFromPrimitiveList, $retainKeys; finalizers are a set")
    func directives() throws {
        let original = #"{"metadata": {"finalizers": ["a/x", "a/y"]}, "spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}], "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}"#
        let deleted = try apply(#"{"spec": {"containers": [{"name": "b", "$patch": "delete"}]}}"#, to: original)
        #expect(deleted[path: ["spec", "containers"]]?.array?.map { $0["name"] } == ["a", "c"])

        let replaced = try apply(#"{"spec": {"containers": [{"name": "z"}, {"$patch": "replace"}]}}"#, to: original)
        #expect(replaced[path: ["spec", "containers"]] == [["name": "z"]])

        let reordered = try apply(#"{"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}], "containers": [{"name": "c", "image": "i"}]}}"#, to: original)
        #expect(reordered[path: ["spec", "containers"]]?.array?.map { $0["name"] } == ["c", "a", "b"])

        let union = try apply(#"{"metadata": {"finalizers": ["a/y", "a/z"]}}"#, to: original)
        #expect(union[path: ["metadata", "finalizers"]] == ["a/x", "a/y", "a/z"])
        let fewer = try apply(#"{"metadata": {"$deleteFromPrimitiveList/finalizers": ["a/x"]}}"#, to: original)
        #expect(fewer[path: ["metadata", "finalizers"]] == ["a/y"])

        let retained = try apply(#"{"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}"#, to: original)
        #expect(retained[path: ["spec", "strategy"]] == ["type": "Recreate"])

        let wholeMap = try apply(#"{"spec": {"strategy": {"$patch": "replace", "type": "Recreate"}}}"#, to: original)
        #expect(wholeMap[path: ["spec", "strategy"]] == ["type": "Recreate"])
    }

    @Test("an element without its merge key, a non-object element and an unknown $patch are refused naming the place")
    func refusals() throws {
        let original = #"{"spec": {"containers": [{"name": "a"}]}}"#
        for (patch, words) in [
            (#"{"spec": {"containers": [{"image": "x"}]}}"#, ["spec.containers[0]", "merge key name"]),
            (#"{"spec": {"containers": ["a"]}}"#, ["spec.containers[0]", "must be an object"]),
            (#"{"spec": {"$patch": "explode"}}"#, ["explode", "spec"]),
        ] {
            #expect {
                _ = try apply(patch, to: original)
            } throws: { error in
                let status = error as? KubeStatus
                return status?.code == 400 && words.allSatisfy { status?.message.contains($0) == true }
            }
        }
        #expect(try apply(#"{"spec": {"containers": [{"name": "a"}]}}"#, to: original) == (try object(original)))
    }
}
