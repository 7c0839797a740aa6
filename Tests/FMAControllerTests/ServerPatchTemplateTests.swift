import FMAController
import FMAJSON
import FMAKube
import Testing

/// The server patch's template step: Go text/template as FMA's manifests use it, and a clear
/// error for everything else.
@Suite struct ServerPatchTemplateTests {
    private let data = ["NodeName": "node-7", "LocalVolume": "pvc-node-7"]

    private func render(_ text: String) throws -> String {
        try ServerPatchTemplate(parsing: text).render(data)
    }

    private func error(_ text: String) -> String? {
        do {
            _ = try render(text)
            return nil
        } catch let error as ServerPatchTemplateError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test func fieldsExpandAsInFMAsManifests() throws {
        // From FMA's server-request-caching-pvc example: a per-node claim.
        let patch = """
            spec:
              volumes:
              - name: cache
                persistentVolumeClaim:
                  claimName: vcp-local-{{ .NodeName }}
              nodeSelector: {kubernetes.io/hostname: "{{.NodeName}}"}
            metadata:
              labels: {volume: {{ .LocalVolume }}}
            """
        let rendered = try render(patch)
        #expect(rendered.contains("claimName: vcp-local-node-7\n"))
        #expect(rendered.contains(#"{kubernetes.io/hostname: "node-7"}"#))
        let json = try YAMLText.json(rendered)
        #expect(json[path: ["metadata", "labels", "volume"]] == "pvc-node-7")
        #expect(try render("no actions at all") == "no actions at all")
    }

    @Test func trimMarkersAndCommentsAsGoHasThem() throws {
        #expect(try render("a  \n  {{- .NodeName -}}  \n  b") == "anode-7b")
        #expect(try render("a {{- .NodeName }} b") == "anode-7 b")
        #expect(try render("a {{ .NodeName -}} b") == "a node-7b")
        #expect(try render("x{{/* a comment */}}y") == "xy")
        #expect(try render("x {{- /* trimmed */ -}} y") == "xy")
    }

    @Test func aMissingFieldIsAnErrorNamingIt() {
        #expect(error("line one\nclaim: {{ .NodeNmae }}") ==
                "server patch template, line 2: {{ .NodeNmae }}: no field \"NodeNmae\" (the fields are LocalVolume, NodeName)")
    }

    @Test func everythingElseIsUnsupportedByName() {
        let cases: [(String, String)] = [
            ("{{ .NodeName | printf \"%q\" }}", "pipelines (|)"),
            ("{{ if .NodeName }}x{{ end }}", "the \"if\" action"),
            ("{{ range .Items }}", "the \"range\" action"),
            ("{{ $x := .NodeName }}", "variables ($)"),
            ("{{ \"literal\" }}", "literals"),
            ("{{ .Node.Name }}", "nested fields (.Node.Name)"),
            ("{{ printf \"%s\" .NodeName }}", "functions and other expressions (printf)"),
        ]
        for (text, what) in cases {
            let message = error(text)
            #expect(message?.contains(what + " not supported in a server patch") == true, "\(text): \(message ?? "accepted")")
        }
        #expect(error("{{ . }}")?.contains("the whole data is not supported") == true)
        #expect(error("a\nb {{ .NodeName") == "server patch template, line 2: unclosed action: \"{{\" without \"}}\"")
        #expect(error("{{ }}")?.hasSuffix("{{ }}: empty action") == true)
        #expect(error("{{/* open }}")?.hasSuffix("unclosed comment") == true)
    }
}
