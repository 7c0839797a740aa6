import FMAAPI
import FMAKubeModel
import Foundation

/// How the kubelet runs a container: as a local process when its command is one of this
/// project's executables or `python3 -m MODULE` for a module in the project's Python
/// directory, otherwise simulated (it "runs" without a process).
enum ContainerCommand: Sendable, Hashable {
    case process(executable: String, arguments: [String], pythonPath: String?)
    case simulated(why: String)
    /// A known program that cannot be found: the container cannot be created.
    case missing(message: String)

    /// The executables of this project a container may name (by base name or any path ending in it).
    static let projectExecutables: Set<String> = [
        "fma-launcher", "fma-gpu-inventory", "fma-demo", "fmactl", "fma-devcluster", "fma-health", "fma-controller",
    ]

    /// Classifies the container's command line (`command` + `args`, `$(VAR)` already expanded).
    static func classify(_ argv: [String], binDirectory: String, pythonDirectory: String?, python: String) -> ContainerCommand {
        guard let first = argv.first else {
            return .simulated(why: "no command: the image's entrypoint is not run")
        }
        let base = (first as NSString).lastPathComponent
        if projectExecutables.contains(base) {
            let path = binDirectory + "/" + base
            guard access(path, X_OK) == 0 else {
                return .missing(message: "\(base) is not in the simulator's bin directory \(binDirectory)")
            }
            // fma's Python code is on PYTHONPATH as an image would have it installed (the
            // launcher's zygote imports it).
            return .process(executable: path, arguments: Array(argv.dropFirst()), pythonPath: pythonDirectory)
        }
        if base == "python" || base.hasPrefix("python3"), argv.count >= 3, argv[1] == "-m" {
            let module = argv[2]
            let top = String(module.split(separator: ".").first ?? "")
            guard let pythonDirectory, !top.isEmpty,
                  FileManager.default.fileExists(atPath: "\(pythonDirectory)/\(top)/__init__.py")
                    || FileManager.default.fileExists(atPath: "\(pythonDirectory)/\(top).py")
            else {
                return .simulated(why: "python module \(module) is not one of this project's")
            }
            return .process(executable: SpawnSupport.resolve(python), arguments: Array(argv.dropFirst()), pythonPath: pythonDirectory)
        }
        return .simulated(why: "\(base) is not one of this project's programs")
    }
}

/// A container's environment, as the kubelet builds it: the downward-API variables, the
/// container's `env` (literal values with `$(VAR)` references, and `valueFrom.fieldRef`), and
/// the devices of its GPUs.
struct ContainerEnvironment: Sendable {
    /// What `fieldRef`s and the fixed variables read.
    struct PodFacts: Sendable {
        var namespace: String
        var name: String
        var uid: String
        var nodeName: String
        var podIP: String
        var hostIP: String
        var serviceAccountName: String
        var labels: [String: String]
        var annotations: [String: String]

        func field(_ path: String) -> String? {
            switch path {
            case "metadata.name": return name
            case "metadata.namespace": return namespace
            case "metadata.uid": return uid
            case "spec.nodeName": return nodeName
            case "status.podIP", "status.podIPs": return podIP
            case "status.hostIP", "status.hostIPs": return hostIP
            case "spec.serviceAccountName": return serviceAccountName
            default:
                if let key = Self.subscriptKey(path, prefix: "metadata.labels") { return labels[key] ?? "" }
                if let key = Self.subscriptKey(path, prefix: "metadata.annotations") { return annotations[key] ?? "" }
                return nil
            }
        }

        /// `metadata.labels['app']` → `app`.
        private static func subscriptKey(_ path: String, prefix: String) -> String? {
            guard path.hasPrefix(prefix + "['"), path.hasSuffix("']") else { return nil }
            return String(path.dropFirst(prefix.count + 2).dropLast(2))
        }
    }

    /// Variables in order (later ones override earlier ones of the same name).
    private(set) var variables: [(String, String)] = []

    /// - Parameter references: reads `secretKeyRef` and `configMapKeyRef` values (nil: each such
    ///   variable is empty).
    init(container: Container, pod: PodFacts, gpuUUIDs: [String], references: EnvReferences? = nil) throws(EnvReferences.Missing) {
        set("NODE_NAME", pod.nodeName)
        set("POD_NAME", pod.name)
        set("POD_UID", pod.uid)
        set("NAMESPACE", pod.namespace)
        set("POD_NAMESPACE", pod.namespace)
        set("POD_IP", pod.podIP)
        for variable in container.env where !variable.name.isEmpty {
            if let path = variable.valueFrom?[path: ["fieldRef", "fieldPath"]]?.string {
                set(variable.name, pod.field(path) ?? "")
            } else if let valueFrom = variable.valueFrom {
                // Resource fields are not simulated: empty.
                guard let references else {
                    set(variable.name, "")
                    continue
                }
                if let value = try references.value(valueFrom) {
                    set(variable.name, value)
                } else if valueFrom["resourceFieldRef"] != nil {
                    set(variable.name, "")
                }
            } else {
                set(variable.name, expand(variable.value ?? ""))
            }
        }
        // The device plugin's word wins, as with NVIDIA's.
        if !gpuUUIDs.isEmpty { set("NVIDIA_VISIBLE_DEVICES", gpuUUIDs.joined(separator: ",")) }
    }

    var dictionary: [String: String] {
        var result: [String: String] = [:]
        for (name, value) in variables { result[name] = value }
        return result
    }

    private mutating func set(_ name: String, _ value: String) {
        variables.removeAll { $0.0 == name }
        variables.append((name, value))
    }

    /// Kubernetes' `$(VAR)` expansion: a defined variable's value; `$$` is a literal `$`;
    /// an undefined reference stays as written.
    func expand(_ text: String) -> String {
        Self.expand(text, dictionary)
    }

    static func expand(_ text: String, _ values: [String: String]) -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            guard character == "$", next < text.endIndex else {
                result.append(character)
                index = next
                continue
            }
            if text[next] == "$" {
                result.append("$")
                index = text.index(after: next)
            } else if text[next] == "(", let close = text[next...].firstIndex(of: ")") {
                let name = String(text[text.index(after: next)..<close])
                if let value = values[name] {
                    result += value
                } else {
                    result += text[index...close]
                }
                index = text.index(after: close)
            } else {
                result.append(character)
                index = next
            }
        }
        return result
    }
}
