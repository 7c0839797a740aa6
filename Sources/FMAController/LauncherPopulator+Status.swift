import FMAJSON
import FMAKube
import FMAKubeModel

/// The statuses the populator keeps: each LauncherConfig's and each policy's
/// `observedGeneration` and `errors` (absent when there are none), written through the status
/// subresource only when they differ.
extension LauncherPopulator {
    func reconcileConfigStatus(_ name: String) async throws -> Outcome {
        guard let config = configs.cache.get(namespace: options.namespace, name: name) else {
            metrics.configGone(name)
            return .done
        }
        metrics.configExists(name)
        var errors: [String] = []
        if case .failure(let error)? = template(name) { errors.append(error.message) }
        try await writeStatus(LauncherConfig.self, name: name, current: config.status, generation: config.metadata.generation, errors: errors)
        return .done
    }

    func reconcilePolicyStatus(_ name: String) async throws -> Outcome {
        guard let object = policies.cache.get(namespace: options.namespace, name: name) else { return .done }
        let policy = PopulationPolicy(object)
        var errors = policy.selectorErrors
        for config in policy.counts.keys.sorted() {
            switch template(config) {
            case nil:
                errors.append("LauncherConfig \"\(config)\" referenced in CountForLauncher does not exist")
            case .failure(let error)?:
                errors.append("LauncherConfig \"\(config)\" referenced in CountForLauncher is malformed: \(error.message)")
            case .success?:
                break
            }
        }
        try await writeStatus(LauncherPopulationPolicy.self, name: name, current: object.status, generation: object.metadata.generation, errors: errors)
        return .done
    }

    private func writeStatus<T: KubeObject>(_ type: T.Type, name: String, current: FMAStatus, generation: Int64, errors: [String]) async throws {
        guard current.observedGeneration != generation || current.errors != errors else { return }
        let status: JSONValue = ["observedGeneration": .int(generation), "errors": errors.isEmpty ? .null : .array(errors.map { .string($0) })]
        do {
            let _: T = try await client.patchStatus(name: name, namespace: options.namespace, .merge(["status": status]))
        } catch {
            guard error.isNotFound else { throw error }
            return
        }
        if !errors.isEmpty {
            logger.warning("status errors", metadata: ["kind": "\(T.resourceKind.kind)", "name": "\(name)", "errors": "\(errors)"])
        }
    }
}
