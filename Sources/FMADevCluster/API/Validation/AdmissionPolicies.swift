import FMAJSON
import FMAKubeModel
import Logging
import NIOConcurrencyHelpers

/// The stored ValidatingAdmissionPolicies, enforced through their bindings as a real API server
/// enforces them on requests that come through the API (the cluster's own in-process
/// controllers write to the store directly): each binding whose policy exists and whose match
/// rules (the policy's `matchConstraints`, the binding's `matchResources`: resource rules with
/// operations, namespace and object selectors, exclusions) take the request has the policy's
/// `matchConditions`, `variables` and `validations` evaluated as CEL (`CELParser`,
/// `CELEvaluator`) over `object`, `oldObject`, `request`, `namespaceObject` and `variables`;
/// a failed validation denies the request (`Deny`, with the policy's message and reason) or
/// warns (`Warn`); an expression that cannot be compiled or evaluated counts as failed under
/// `failurePolicy: Fail` (the default) and is skipped under `Ignore`. Policies with
/// `paramKind` are not enforced (logged): parameter resources are not supported.
final class AdmissionPolicies: Sendable {
    /// One write as admission sees it.
    struct Request {
        var operation: String
        var kind: ResourceKind
        var subresource: String?
        var namespace: String
        var name: String
        var user: UserInfo
        var object: JSONObject?
        var oldObject: JSONObject?
        var dryRun: Bool
    }

    private let store: ObjectStore
    private let logger: Logger
    /// Parsed expressions by their text (policies are few; their expressions recur).
    private let parsed = NIOLockedValueBox<[String: Result<CELExpr, CELError>]>([:])

    init(store: ObjectStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// The bindings and policies that may apply to a write in `namespace`, read now (outside
    /// the store's lock: the write's own check runs under it and may not read the store).
    func active(namespace: String) -> Active {
        guard let bindings = try? store.list(.validatingAdmissionPolicyBinding, namespace: nil).items, !bindings.isEmpty else {
            return Active(pairs: [], namespaceObject: nil, policies: self)
        }
        var pairs: [(binding: JSONObject, policy: JSONObject)] = []
        for binding in bindings.sorted(by: { Self.name($0) < Self.name($1) }) {
            guard let policyName = binding[path: ["spec", "policyName"]]?.string,
                  let policy = try? store.get(.validatingAdmissionPolicy, namespace: "", name: policyName) else { continue }
            pairs.append((binding, policy))
        }
        let namespaceObject = namespace.isEmpty ? nil : try? store.get(.namespace, namespace: "", name: namespace)
        return Active(pairs: pairs, namespaceObject: namespaceObject, policies: self)
    }

    /// The policies read for one write.
    struct Active {
        fileprivate let pairs: [(binding: JSONObject, policy: JSONObject)]
        fileprivate let namespaceObject: JSONObject?
        fileprivate let policies: AdmissionPolicies

        /// No binding names a policy that exists: nothing to check.
        var isEmpty: Bool { pairs.isEmpty }

        /// The warnings of the bindings that warn; throws the first denial.
        func admit(_ request: Request) throws(KubeStatus) -> [String] {
            var warnings: [String] = []
            for (binding, policy) in pairs {
                if let warning = try policies.admit(request, binding: binding, policy: policy, namespaceObject: namespaceObject) {
                    warnings.append(warning)
                }
            }
            return warnings
        }
    }

    /// One binding's verdict: a warning, nothing, or the denial thrown.
    private func admit(_ request: Request, binding: JSONObject, policy: JSONObject, namespaceObject: JSONObject?) throws(KubeStatus) -> String? {
        let spec = binding["spec"]?.object ?? JSONObject()
        let policyName = Self.name(policy), bindingName = Self.name(binding)
        let policySpec = policy["spec"]?.object ?? JSONObject()
        if let paramKind = policySpec["paramKind"], !paramKind.isNull {
            logger.debug("admission policy with paramKind not enforced", metadata: ["policy": "\(policyName)"])
            return nil
        }
        guard matches(policySpec["matchConstraints"], request, namespaceObject, required: true),
              matches(spec["matchResources"], request, namespaceObject, required: false),
              let failure = evaluate(policySpec, request, namespaceObject) else { return nil }
        let actions = Set((spec["validationActions"]?.array ?? []).compactMap(\.string))
        if actions.contains("Deny") {
            logger.info("admission policy denied a request", metadata: [
                "policy": "\(policyName)", "binding": "\(bindingName)", "user": "\(request.user.name)",
                "resource": "\(request.kind.plural)", "name": "\(request.name)", "message": "\(failure.message)",
            ])
            // Worded, and with the one cause, as a real API server's denial (kubectl prints the cause).
            let resource = request.kind.group.isEmpty ? request.kind.plural : "\(request.kind.plural).\(request.kind.group)"
            let denial = "ValidatingAdmissionPolicy '\(policyName)' with binding '\(bindingName)' denied request: \(failure.message)"
            throw KubeStatus(code: failure.reason.code, reason: failure.reason.status, message: "\(resource) \"\(request.name)\" is forbidden: \(denial)",
                             details: ["name": .string(request.name), "group": .string(request.kind.group), "kind": .string(request.kind.plural),
                                       "causes": [["message": .string(denial)]]])
        }
        return actions.contains("Warn") ? "Validation failed for ValidatingAdmissionPolicy '\(policyName)' with binding '\(bindingName)': \(failure.message)" : nil
    }

    private struct Failure {
        var message: String
        var reason: (status: StatusReason, code: Int)
    }

    /// Why the policy refuses the request, or nil when it lets it pass (or does not apply).
    private func evaluate(_ spec: JSONObject, _ request: Request, _ namespaceObject: JSONObject?) -> Failure? {
        let failClosed = spec["failurePolicy"]?.string != "Ignore"
        var variables: [CELValue: CELValue] = [:]
        // The objects are converted once, at their first use.
        var converted: [String: CELValue] = [:]
        let evaluator = CELEvaluator { (name) throws(CELError) -> CELValue? in
            if name == "variables" { return .map(variables) }
            if let value = converted[name] { return value }
            let value: CELValue? = switch name {
            case "object": request.object.map { CELValue(.object($0)) } ?? .null
            case "oldObject": request.oldObject.map { CELValue(.object($0)) } ?? .null
            case "request": Self.requestValue(request)
            case "params": .null
            case "namespaceObject": request.kind.namespaced ? namespaceObject.map { CELValue(.object($0)) } ?? .null : .null
            default: nil
            }
            converted[name] = value
            return value
        }
        func run(_ text: String) throws(CELError) -> CELValue {
            try evaluator.evaluate(try parse(text))
        }
        let broken = { (what: String, expression: String, error: CELError) -> Failure? in
            failClosed ? Failure(message: "\(what) '\(expression)' resulted in error: \(error.message)", reason: (.invalid, 422)) : nil
        }
        for condition in spec["matchConditions"]?.array ?? [] {
            let text = condition["expression"]?.string ?? ""
            do throws(CELError) {
                guard case .bool(let value) = try run(text) else { throw CELError("the match condition is not a bool") }
                if !value { return nil }
            } catch {
                return broken("match condition", text, error)
            }
        }
        for variable in spec["variables"]?.array ?? [] {
            guard let name = variable["name"]?.string, let text = variable["expression"]?.string else { continue }
            // A variable that cannot be evaluated is left out: an expression using it fails then.
            if let value = try? run(text) { variables[.string(name)] = value }
        }
        for validation in spec["validations"]?.array ?? [] {
            let text = validation["expression"]?.string ?? ""
            do throws(CELError) {
                guard case .bool(let passed) = try run(text) else { throw CELError("the validation is not a bool") }
                if passed { continue }
            } catch {
                if let failure = broken("expression", text, error) { return failure }
                continue
            }
            var message = validation["message"]?.string ?? "failed expression: \(text.trimmingCharacters(in: .whitespacesAndNewlines))"
            if let expression = validation["messageExpression"]?.string, case .string(let text)? = try? run(expression), !text.isEmpty {
                message = text
            }
            return Failure(message: message.trimmingCharacters(in: .whitespacesAndNewlines), reason: Self.reason(validation["reason"]?.string))
        }
        return nil
    }

    private func parse(_ text: String) throws(CELError) -> CELExpr {
        if let known = parsed.withLockedValue({ $0[text] }) { return try known.get() }
        let result: Result<CELExpr, CELError>
        do throws(CELError) {
            result = .success(try CELParser.parse(text))
        } catch {
            result = .failure(error)
        }
        parsed.withLockedValue { $0[text] = result }
        return try result.get()
    }

    private static func reason(_ text: String?) -> (status: StatusReason, code: Int) {
        switch text {
        case "Forbidden": (.forbidden, 403)
        case "Unauthorized": (.unauthorized, 401)
        case "RequestEntityTooLarge": (.requestEntityTooLarge, 413)
        default: (.invalid, 422)
        }
    }

    // MARK: Matching

    /// Whether `match` (a MatchResources) takes the request; an absent one takes everything
    /// unless `required` (a policy must say what it matches).
    private func matches(_ match: JSONValue?, _ request: Request, _ namespaceObject: JSONObject?, required: Bool) -> Bool {
        guard let match = match?.object else { return !required }
        if let rules = match["resourceRules"]?.array {
            guard rules.contains(where: { Self.rule($0, takes: request) }) else { return false }
        } else if required {
            return false
        }
        if (match["excludeResourceRules"]?.array ?? []).contains(where: { Self.rule($0, takes: request) }) { return false }
        if request.kind.namespaced, let selector = match["namespaceSelector"], !selector.isNull {
            guard let parsed = try? LabelSelector(object: selector) else { return false }
            let labels = namespaceObject?[path: ["metadata", "labels"]]?.stringMap ?? [:]
            if !parsed.matches(labels) { return false }
        }
        if let selector = match["objectSelector"], !selector.isNull {
            guard let parsed = try? LabelSelector(object: selector) else { return false }
            let labels = [request.object, request.oldObject].compactMap { $0?[path: ["metadata", "labels"]]?.stringMap ?? [:] }
            if !labels.contains(where: parsed.matches) { return false }
        }
        return true
    }

    /// Whether a NamedRuleWithOperations takes the request.
    private static func rule(_ rule: JSONValue, takes request: Request) -> Bool {
        func listed(_ field: String, _ value: String) -> Bool {
            let values = (rule[field]?.array ?? []).compactMap(\.string)
            return values.contains("*") || values.contains(value)
        }
        guard listed("apiGroups", request.kind.group), listed("apiVersions", request.kind.version), listed("operations", request.operation) else { return false }
        let resources = (rule["resources"]?.array ?? []).compactMap(\.string)
        let taken = resources.contains { pattern in
            let parts = pattern.split(separator: "/", maxSplits: 1).map(String.init)
            let resourceMatches = parts[0] == "*" || parts[0] == request.kind.plural
            guard parts.count == 2 else { return resourceMatches && request.subresource == nil }
            return resourceMatches && (parts[1] == "*" || parts[1] == request.subresource)
        }
        guard taken else { return false }
        let names = (rule["resourceNames"]?.array ?? []).compactMap(\.string)
        if !names.isEmpty, !names.contains(request.name) { return false }
        switch rule["scope"]?.string {
        case "Namespaced": return request.kind.namespaced
        case "Cluster": return !request.kind.namespaced
        default: return true
        }
    }

    // MARK: Values

    private static func requestValue(_ request: Request) -> CELValue {
        let user: JSONObject = ["username": .string(request.user.name), "uid": .string(request.user.uid),
                                "groups": .array(request.user.groups.map { .string($0) })]
        var value: JSONObject = [
            "kind": ["group": .string(request.kind.group), "version": .string(request.kind.version), "kind": .string(request.kind.kind)],
            "resource": ["group": .string(request.kind.group), "version": .string(request.kind.version), "resource": .string(request.kind.plural)],
            "name": .string(request.name), "namespace": .string(request.namespace), "operation": .string(request.operation),
            "userInfo": .object(user), "dryRun": .bool(request.dryRun),
        ]
        if let subresource = request.subresource { value["subResource"] = .string(subresource) }
        return CELValue(.object(value))
    }

    private static func name(_ object: JSONObject) -> String {
        object[path: ["metadata", "name"]]?.string ?? ""
    }
}
