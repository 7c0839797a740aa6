public import FMAKubeModel
import Foundation

/// What the controller reads off an existing direct-mode provider Pod (one made from a
/// `NominalProvider`): its GPUs on its node and the port of its server.
public enum DirectProvider {
    /// Whether `pod` is a direct provider (it carries the `nominal` hash).
    public static func isDirect(_ pod: Pod) -> Bool {
        pod.metadata.annotation(DualPods.Annotation.nominal) != nil
    }

    /// The GPU indices of its `inference-server` container's `CUDA_VISIBLE_DEVICES`.
    public static func gpuIndices(_ pod: Pod) -> [Int] {
        guard let container = pod.spec.containers.first(where: { $0.name == DualPods.inferenceServerContainer }),
              let devices = container.env.first(where: { $0.name == "CUDA_VISIBLE_DEVICES" })?.value else { return [] }
        return devices.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// The `gpu` index's keys (FMA's): `"<node> <index>"` for each of its GPUs.
    static func gpuKeys(_ pod: Pod) -> [String] {
        guard isDirect(pod), let node = pod.spec.nodeName, !node.isEmpty else { return [] }
        return gpuIndices(pod).map { "\(node) \($0)" }
    }

    /// The port its server listens on: the readinessProbe's, as the nominal provider's.
    public static func serverPort(_ pod: Pod) throws(ControllerError) -> Int {
        guard let container = pod.spec.containers.first(where: { $0.name == DualPods.inferenceServerContainer }) else {
            throw ControllerError("container \"\(DualPods.inferenceServerContainer)\" not found")
        }
        return try NominalProvider.serverPort(container)
    }
}
