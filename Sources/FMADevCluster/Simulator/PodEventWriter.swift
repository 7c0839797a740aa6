import FMAJSON
import FMAKubeModel
import Foundation
import Logging

/// Writes core/v1 Events about pods, as the scheduler and the kubelet report them.
struct PodEventWriter: Sendable {
    let store: ObjectStore
    let component: String
    let logger: Logger

    /// Records `reason` for the pod `namespace/name` (uid `uid`); failures are logged only.
    func record(namespace: String, name: String, uid: String, type: String = "Normal", reason: String, message: String, host: String? = nil, fieldPath: String? = nil) {
        var involved = ObjectReference()
        involved.apiVersion = "v1"
        involved.kind = "Pod"
        involved.namespace = namespace
        involved.name = name
        involved.uid = uid
        involved.fieldPath = fieldPath
        let event = Event(name: "\(name).\(String(UInt64.random(in: 1...UInt64.max), radix: 16))", namespace: namespace,
                          about: involved, type: type, reason: reason, message: message,
                          component: component, instance: host ?? component, host: host, timestamp: Timestamp.now())
        do {
            _ = try store.create(.event, namespace: namespace, event.json)
        } catch {
            logger.debug("cannot record an event", metadata: ["pod": "\(namespace)/\(name)", "reason": "\(reason)", "error": "\(error)"])
        }
    }
}
