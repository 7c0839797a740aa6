import FMAJSON
import FMAKubeModel
import Foundation

/// A container's `secret` and `configMap` volume mounts, made real without a mount namespace:
/// each such volume is written as files (one per key, or per `items` entry) under the pod's
/// directory, `DIR/simulator/pods/NAMESPACE/POD/volumes/VOLUME/`, and every argument,
/// command word and environment value that names a path under a `mountPath` (at its start, or
/// after `=` as in `--token-file=/var/run/…`) is rewritten to the files' directory. So a
/// manifest that reads `--token-file /var/run/secrets/fma/token` works unchanged. A missing
/// Secret, ConfigMap or key that is not `optional` is the kubelet's CreateContainerConfigError.
/// Other volume types are not simulated: their mounts are left as they are.
struct PodVolumes {
    /// `mountPath` → the directory (or file, with `subPath`) that stands for it, longest first.
    private(set) var mounts: [(mountPath: String, hostPath: String)] = []

    /// Writes the volumes `container` mounts and answers the mapping.
    /// `implicit` are mounts the kubelet adds itself (a pod's API credentials), each unless the
    /// container mounts something at that path.
    init(container: Container, podSpec: PodSpec, podDirectory: String, references: EnvReferences,
         implicit: [(mountPath: String, hostPath: String)] = []) throws(EnvReferences.Missing) {
        let volumes = podSpec.json["volumes"]?.array ?? []
        for mount in container.json["volumeMounts"]?.array ?? [] {
            guard let name = mount["name"]?.string, let mountPath = mount["mountPath"]?.string, !mountPath.isEmpty,
                  let volume = volumes.first(where: { $0["name"]?.string == name }) else { continue }
            let files: [String: Data]
            if let secret = volume["secret"]?.object {
                files = try Self.files(references, .secret, name: secret["secretName"]?.string ?? "", source: secret,
                                       decode: { Data(base64Encoded: $0) })
            } else if let configMap = volume["configMap"]?.object {
                files = try Self.files(references, .configMap, name: configMap["name"]?.string ?? "", source: configMap,
                                       decode: { Data($0.utf8) })
            } else {
                continue
            }
            let directory = "\(podDirectory)/volumes/\(name)"
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (path, data) in files {
                let file = "\(directory)/\(path)"
                try? FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: file, contents: data, attributes: [.posixPermissions: 0o600])
            }
            let subPath = mount["subPath"]?.string ?? ""
            mounts.append((mountPath.count > 1 && mountPath.hasSuffix("/") ? String(mountPath.dropLast()) : mountPath,
                           subPath.isEmpty ? directory : "\(directory)/\(subPath)"))
        }
        for mount in implicit where !mounts.contains(where: { $0.mountPath == mount.mountPath }) { mounts.append(mount) }
        mounts.sort { $0.mountPath.count > $1.mountPath.count }
    }

    /// `text` with a path under a mount rewritten to the files that stand for it.
    func rewrite(_ text: String) -> String {
        for (mountPath, hostPath) in mounts {
            if let rest = Self.under(text, mountPath) { return hostPath + rest }
            if let equals = text.firstIndex(of: "="), let rest = Self.under(String(text[text.index(after: equals)...]), mountPath) {
                return text[...equals] + hostPath + rest
            }
        }
        return text
    }

    /// What follows `mountPath` in `path` when `path` is it or lies under it.
    private static func under(_ path: String, _ mountPath: String) -> String? {
        guard path.hasPrefix(mountPath) else { return nil }
        let rest = path.dropFirst(mountPath.count)
        return rest.isEmpty || rest.hasPrefix("/") ? String(rest) : nil
    }

    /// The files of one volume: every key of `data` (and a ConfigMap's `binaryData`), or the
    /// `items` listed (key → path).
    private static func files(_ references: EnvReferences, _ kind: ResourceKind, name: String, source: JSONObject,
                              decode: (String) -> Data?) throws(EnvReferences.Missing) -> [String: Data] {
        let optional = source["optional"]?.bool ?? false
        guard let object = try references.object(kind, name: name, optional: optional) else { return [:] }
        var all: [String: Data] = [:]
        // Keys are file names (the API server allows no '/', '.' or '..'); checked again here.
        func usable(_ key: String) -> Bool { !key.isEmpty && !key.contains("/") && key != "." && key != ".." }
        for (key, value) in object["data"]?.object ?? JSONObject() where usable(key) {
            if let text = value.string, let data = decode(text) { all[key] = data }
        }
        for (key, value) in object["binaryData"]?.object ?? JSONObject() where usable(key) {
            if let text = value.string, let data = Data(base64Encoded: text) { all[key] = data }
        }
        guard let items = source["items"]?.array else { return all }
        var files: [String: Data] = [:]
        for item in items {
            guard let key = item["key"]?.string, let path = item["path"]?.string, !path.hasPrefix("/"), !path.contains("..") else { continue }
            guard let data = all[key] else {
                if optional { continue }
                throw references.missingKey(kind, name: name, key: key)
            }
            files[path] = data
        }
        return files
    }
}
