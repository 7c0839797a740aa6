/// The `dual-pods.llm-d.ai/server-patch` annotation as FMA reads it: a Go text/template that
/// expands, with the provider's data (`{{ .NodeName }}`, `{{ .LocalVolume }}`), to a strategic
/// merge patch in YAML or JSON.
///
/// Supported: text, field references `{{ .Name }}` (the names in `fields`), comments
/// `{{/* … */}}`, and the trim markers `{{- ` and ` -}}`, which remove the white space before or
/// after the action, as Go does. A field that is not there is an error naming it; any other
/// template feature (pipelines, functions, `if`, `range`, variables, literals) is an error that
/// names what is unsupported — nothing is passed through unexpanded.
public struct ServerPatchTemplate: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case text(String)
        case field(String, line: Int)
    }

    /// The fields FMA's ProviderData has.
    public static let fields = ["NodeName", "LocalVolume"]

    let parts: [Part]

    /// Parses `text`; errors give the line and the action.
    public init(parsing text: String) throws(ServerPatchTemplateError) {
        var parts: [Part] = []
        var rest = Substring(text)
        var line = 1
        var trimNextText = false
        while !rest.isEmpty {
            guard let open = rest.range(of: "{{") else {
                parts.append(.text(String(trimNextText ? rest.drop { $0.isGoSpace } : rest)))
                break
            }
            var before = rest[..<open.lowerBound]
            if trimNextText { before = before.drop { $0.isGoSpace } }
            line += rest[..<open.lowerBound].count { $0 == "\n" }
            var inside = rest[open.upperBound...]
            guard let close = inside.range(of: "}}") else {
                throw ServerPatchTemplateError(line: line, "unclosed action: \"{{\" without \"}}\"")
            }
            let actionLine = line
            line += inside[..<close.lowerBound].count { $0 == "\n" }
            rest = inside[close.upperBound...]
            inside = inside[..<close.lowerBound]
            let whole = "{{" + inside + "}}"
            // Trim markers: "{{- " and " -}}" (the space is part of the marker, as in Go).
            if inside.hasPrefix("-"), inside.dropFirst().first?.isGoSpace == true {
                before = Substring(before.reversed().drop { $0.isGoSpace }.reversed())
                inside = inside.dropFirst(2)
            }
            trimNextText = false
            if inside.hasSuffix("-"), inside.dropLast().last?.isGoSpace == true {
                trimNextText = true
                inside = inside.dropLast(2)
            }
            if !before.isEmpty { parts.append(.text(String(before))) }
            let action = inside.trimmingGoSpace()
            if action.hasPrefix("/*") {
                guard action.hasSuffix("*/") else { throw ServerPatchTemplateError(line: actionLine, "\(whole): unclosed comment") }
                continue
            }
            parts.append(.field(try Self.field(action, whole: whole, line: actionLine), line: actionLine))
        }
        self.parts = parts
    }

    /// The field an action names, or an error saying what the action is instead.
    private static func field(_ action: Substring, whole: String, line: Int) throws(ServerPatchTemplateError) -> String {
        if action.isEmpty { throw ServerPatchTemplateError(line: line, "\(whole): empty action") }
        if action == "." { throw ServerPatchTemplateError(line: line, "\(whole): the whole data is not supported; name a field: \(fields.map { "{{ .\($0) }}" }.joined(separator: " or "))") }
        if action.hasPrefix("."), action.dropFirst().allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), action.dropFirst().first?.isLetter == true {
            return String(action.dropFirst())
        }
        let word = action.prefix { !$0.isGoSpace }
        let what: String
        switch true {
        case action.contains("|"): what = "pipelines (|)"
        case ["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"].contains(String(word)): what = "the \"\(word)\" action"
        case action.hasPrefix("$"): what = "variables ($)"
        case action.hasPrefix("\"") || action.hasPrefix("`") || action.first?.isNumber == true: what = "literals"
        case action.hasPrefix(".") && action.dropFirst().contains("."): what = "nested fields (\(word))"
        default: what = "functions and other expressions (\(word))"
        }
        throw ServerPatchTemplateError(line: line, "\(whole): \(what) not supported in a server patch; only field references such as {{ .NodeName }} are")
    }

    /// The patch text with every field replaced; a field `data` lacks is an error naming it.
    public func render(_ data: [String: String]) throws(ServerPatchTemplateError) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let text):
                out += text
            case .field(let name, let line):
                guard let value = data[name] else {
                    throw ServerPatchTemplateError(line: line, "{{ .\(name) }}: no field \"\(name)\" (the fields are \(data.keys.sorted().joined(separator: ", ")))")
                }
                out += value
            }
        }
        return out
    }
}

/// A server patch template that cannot be parsed or expanded.
public struct ServerPatchTemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let message: String

    init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "server patch template, line \(line): \(message)" }
}

extension Character {
    /// Go's template white space: space, tab, carriage return, newline.
    var isGoSpace: Bool { self == " " || self == "\t" || self == "\r" || self == "\n" }
}

extension Substring {
    func trimmingGoSpace() -> Substring {
        Substring(drop { $0.isGoSpace }.reversed().drop { $0.isGoSpace }.reversed())
    }
}
