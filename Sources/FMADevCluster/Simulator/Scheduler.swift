import FMAJSON
import FMAKubeModel
import Foundation
import Logging

/// Binds pending pods to nodes (`default-scheduler`): fed the simulator's pod and node
/// events, it decides with `SchedulerState` and writes the bindings, the `PodScheduled`
/// condition and the Events. Pods that fit nowhere are tried again when nodes change or
/// capacity frees up (at most every `retryDelay`).
final class Scheduler: InboxLoop {
    enum Input: Sendable {
        case pod(StoreEvent)
        case node(StoreEvent)
        case retry
    }

    private let store: ObjectStore
    private let events: PodEventWriter
    private let logger: Logger
    private let retryDelay: Duration
    let inbox = Inbox<Input>()

    init(store: ObjectStore, logger: Logger, retryDelay: Duration = .milliseconds(20)) {
        self.store = store
        self.logger = logger
        self.retryDelay = retryDelay
        events = PodEventWriter(store: store, component: SchedulerState.schedulerName, logger: logger)
    }

    func run() async {
        var state = SchedulerState()
        var retryScheduled = false
        await withDiscardingTaskGroup { group in
            for await input in inbox.inputs {
                var retry = false
                switch input {
                case .pod(let event):
                    state.observe(pod: event.object, deleted: event.type == .deleted)
                case .node(let event):
                    state.observe(node: event.object, deleted: event.type == .deleted)
                case .retry:
                    retryScheduled = false
                    retry = true
                }
                if state.hasFreshPods || retry {
                    for decision in state.schedule(retry: retry) {
                        carry(out: decision, state: &state)
                    }
                }
                if state.retryNeeded, !retryScheduled {
                    retryScheduled = true
                    let delay = retryDelay
                    group.addTask { [inbox] in
                        try? await Task.sleep(for: delay)
                        inbox.send(.retry)
                    }
                }
            }
            group.cancelAll()
        }
    }

    private func carry(out decision: SchedulerState.Decision, state: inout SchedulerState) {
        switch decision {
        case .bind(let namespace, let name, let uid, let node):
            do {
                try bind(namespace: namespace, name: name, uid: uid, node: node)
                events.record(namespace: namespace, name: name, uid: uid, reason: "Scheduled", message: "Successfully assigned \(namespace)/\(name) to \(node)")
                logger.debug("bound pod", metadata: ["pod": "\(namespace)/\(name)", "node": "\(node)"])
            } catch {
                state.bindFailed(uid: uid)
                logger.debug("binding failed", metadata: ["pod": "\(namespace)/\(name)", "node": "\(node)", "error": "\(error)"])
            }
        case .unschedulable(let namespace, let name, let uid, let message):
            let condition = Condition(type: "PodScheduled", status: false, reason: "Unschedulable", message: message, lastTransitionTime: Timestamp.now())
            _ = try? store.mutate(.pod, namespace: namespace, name: name, subresource: "status") { (object) throws(KubeStatus) in
                try Self.check(object, uid: uid, name: name)
                var pod = Pod(json: object)
                pod.status.setCondition(condition)
                object = pod.json
            }
            events.record(namespace: namespace, name: name, uid: uid, type: "Warning", reason: "FailedScheduling", message: message)
            logger.debug("pod fits no node", metadata: ["pod": "\(namespace)/\(name)", "why": "\(message)"])
        }
    }

    private func bind(namespace: String, name: String, uid: String, node: String) throws(KubeStatus) {
        _ = try store.mutate(.pod, namespace: namespace, name: name, subresource: "binding") { (object) throws(KubeStatus) in
            try Self.check(object, uid: uid, name: name)
            guard (object[path: ["spec", "nodeName"]]?.string ?? "").isEmpty else {
                throw KubeStatus.conflict(.pod, name: name, "pod is already bound")
            }
            object[path: ["spec", "nodeName"]] = .string(node)
        }
        let condition = Condition(type: "PodScheduled", status: true, lastTransitionTime: Timestamp.now())
        _ = try store.mutate(.pod, namespace: namespace, name: name, subresource: "status") { (object) throws(KubeStatus) in
            var pod = Pod(json: object)
            pod.status.setCondition(condition)
            object = pod.json
        }
    }

    /// The pod is still the one decided on and not being deleted.
    private static func check(_ object: JSONObject, uid: String, name: String) throws(KubeStatus) {
        guard object[path: ["metadata", "uid"]]?.string == uid, object[path: ["metadata", "deletionTimestamp"]] == nil else {
            throw KubeStatus.conflict(.pod, name: name, "pod changed since the scheduling decision")
        }
    }
}
