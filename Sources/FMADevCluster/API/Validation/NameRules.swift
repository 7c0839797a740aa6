/// Kubernetes' rules for names, label keys and label values. Each check returns why the text
/// fails, in the API server's words, or nil when it is valid.
enum NameRules {
    /// A DNS-1123 label: at most 63 lower-case alphanumerics or '-', starting and ending
    /// alphanumeric (namespace names, container names).
    static func dns1123Label(_ text: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text.utf8.count > 63 { return "must be no more than 63 characters" }
        guard isLabelShaped(text, allowDots: false, upperCase: false) else {
            return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')"
        }
        return nil
    }

    /// A DNS-1123 subdomain: at most 253 characters, dot-separated labels (most object names).
    static func dns1123Subdomain(_ text: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text.utf8.count > 253 { return "must be no more than 253 characters" }
        let ok = text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && isLabelShaped(String(label), allowDots: false, upperCase: false)
        }
        guard ok else {
            return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')"
        }
        return nil
    }

    /// A key of a Secret's or ConfigMap's data: at most 253 of alphanumerics, '-', '_' and '.',
    /// not `.` or `..`.
    static func configKey(_ text: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text.utf8.count > 253 { return "must be no more than 253 characters" }
        if text == "." || text == ".." { return "must not be '\(text)'" }
        let ok = text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
        guard ok else {
            return "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
        }
        return nil
    }

    /// A DNS-1035 label: a DNS-1123 label that starts with a letter (service names).
    static func dns1035Label(_ text: String) -> String? {
        if let problem = dns1123Label(text) { return problem.replacing("RFC 1123", with: "RFC 1035") }
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first) else {
            return "a DNS-1035 label must start with an alphabetic character"
        }
        return nil
    }

    /// A qualified name (label and annotation keys): `[prefix/]name`, the prefix a DNS-1123
    /// subdomain, the name at most 63 alphanumerics, '-', '_' or '.', starting and ending
    /// alphanumeric.
    static func qualifiedName(_ text: String) -> String? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        switch parts.count {
        case 1: name = parts[0]
        case 2:
            if parts[0].isEmpty { return "prefix part must be non-empty" }
            if let problem = dns1123Subdomain(String(parts[0])) { return "prefix part \(problem)" }
            name = parts[1]
        default:
            return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        }
        if name.isEmpty { return "name part must be non-empty" }
        if name.utf8.count > 63 { return "name part must be no more than 63 characters" }
        guard isLabelShaped(String(name), allowDots: true, upperCase: true) else {
            return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc')"
        }
        return nil
    }

    /// A label value: empty, or at most 63 alphanumerics, '-', '_' or '.', starting and ending
    /// alphanumeric.
    static func labelValue(_ text: String) -> String? {
        if text.isEmpty { return nil }
        if text.utf8.count > 63 { return "must be no more than 63 characters" }
        guard isLabelShaped(text, allowDots: true, upperCase: true) else {
            return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345')"
        }
        return nil
    }

    /// Alphanumerics at both ends; inside, also '-' (and '_', '.' with `allowDots`).
    private static func isLabelShaped(_ text: String, allowDots: Bool, upperCase: Bool) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.first, let last = scalars.last else { return false }
        func alphanumeric(_ c: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(c) || ("0"..."9").contains(c) || (upperCase && ("A"..."Z").contains(c))
        }
        guard alphanumeric(first), alphanumeric(last) else { return false }
        return scalars.allSatisfy { c in
            alphanumeric(c) || c == "-" || (allowDots && (c == "_" || c == "."))
        }
    }
}
