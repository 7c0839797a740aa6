import FMAJSON
import Foundation

/// One kubeconfig file, read: its named clusters, users and contexts (file paths inside
/// already made absolute against the file's directory) and its current context.
struct KubeconfigFile {
    /// A named entry and the file it came from (for error messages).
    struct Entry {
        var name: String
        var value: JSONObject
        var file: String
    }

    var path: String
    var clusters: [Entry] = []
    var users: [Entry] = []
    var contexts: [Entry] = []
    var currentContext: String?

    /// The fields of each section that name files, resolved against the file's directory.
    private static let clusterPathFields = ["certificate-authority"]
    private static let userPathFields = ["client-certificate", "client-key", "tokenFile"]

    init(path: String, text: String) throws(KubeConfigError) {
        self.path = path
        let root: JSONValue
        do {
            root = try YAMLText.json(text)
        } catch {
            throw KubeConfigError("\(path): \(error.message)")
        }
        if root.isNull { return } // an empty file is an empty config, as kubectl reads it
        guard let object = root.object else {
            throw KubeConfigError("\(path): expected a mapping at the top level, got \(root.typeName)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        clusters = try entries(object, section: "clusters", item: "cluster", pathFields: Self.clusterPathFields, directory: directory)
        users = try entries(object, section: "users", item: "user", pathFields: Self.userPathFields, directory: directory)
        contexts = try entries(object, section: "contexts", item: "context", pathFields: [], directory: directory)
        if let current = object["current-context"] {
            guard current.isNull || current.string != nil else {
                throw KubeConfigError("\(path): current-context: expected a string, got \(current.typeName)")
            }
            currentContext = current.string.flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    private func entries(_ root: JSONObject, section: String, item: String, pathFields: [String], directory: String) throws(KubeConfigError) -> [Entry] {
        guard let value = root[section], !value.isNull else { return [] }
        guard let list = value.array else {
            throw KubeConfigError("\(path): \(section): expected a list, got \(value.typeName)")
        }
        var result: [Entry] = []
        for (index, element) in list.enumerated() {
            guard let name = element["name"]?.string, !name.isEmpty else {
                throw KubeConfigError("\(path): \(section)[\(index)]: missing name")
            }
            let body = element[item]
            guard body == nil || body!.isNull || body!.object != nil else {
                throw KubeConfigError("\(path): \(section)[\(name)].\(item): expected a mapping, got \(body!.typeName)")
            }
            var object = body?.object ?? JSONObject()
            for field in pathFields {
                guard let fieldValue = object[field], !fieldValue.isNull else { continue }
                guard let relative = fieldValue.string else {
                    throw KubeConfigError("\(path): \(section)[\(name)].\(item).\(field): expected a string, got \(fieldValue.typeName)")
                }
                if !relative.isEmpty && !relative.hasPrefix("/") {
                    object[field] = .string(directory.isEmpty ? relative : directory + "/" + relative)
                }
            }
            result.append(Entry(name: name, value: object, file: path))
        }
        return result
    }
}

/// Kubeconfig files merged as kubectl merges them: the first file to define a cluster, user
/// or context name wins, and so does the first `current-context`.
struct MergedKubeconfig {
    var files: [String] = []
    var clusters: [String: KubeconfigFile.Entry] = [:]
    var users: [String: KubeconfigFile.Entry] = [:]
    var contexts: [String: KubeconfigFile.Entry] = [:]
    var currentContext: String?
    var currentContextFile: String?

    mutating func merge(_ file: KubeconfigFile) {
        files.append(file.path)
        for entry in file.clusters where clusters[entry.name] == nil { clusters[entry.name] = entry }
        for entry in file.users where users[entry.name] == nil { users[entry.name] = entry }
        for entry in file.contexts where contexts[entry.name] == nil { contexts[entry.name] = entry }
        if currentContext == nil, let current = file.currentContext {
            currentContext = current
            currentContextFile = file.path
        }
    }
}
