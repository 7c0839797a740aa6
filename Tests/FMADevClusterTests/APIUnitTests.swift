@testable import FMADevCluster
import FMAJSON
import FMAKubeModel
import FMATestSupport
import Foundation
import NIOHTTP1
import Synchronization
import Testing

/// The API server's pure parts, without sockets.
@Suite("API server: parts")
struct APIUnitTests {
    @Test("the admin token is compared whole, also against tokens whose lengths differ by a multiple of 256")
    func adminToken() {
        let token = String(repeating: "a", count: 10)
        let authenticator = Authenticator(adminToken: token, store: ObjectStore(), now: { Date() })
        #expect(authenticator.user(["Authorization": "Bearer \(token)"]) == .admin)
        #expect(authenticator.user(["Authorization": "bearer \(token)"]) == .admin)
        #expect(authenticator.user(["Authorization": "Bearer \(token)a"]) == nil)
        #expect(authenticator.user(["Authorization": "Bearer " + token + String(repeating: "\0", count: 256)]) == nil)
        #expect(authenticator.user(["Authorization": "Basic \(token)"]) == nil)
        #expect(authenticator.user([:]) == nil)
        #expect(!Authenticator.constantTimeEqual(Array(repeating: 0, count: 256), []))
    }

    @Test("a ServiceAccount token names its account while it exists with the same uid and the token has not expired")
    func serviceAccountTokens() throws {
        let store = ObjectStore()
        let clock = Mutex(Date(timeIntervalSince1970: 1_000_000))
        let authenticator = Authenticator(adminToken: "admin", store: store, now: { clock.withLock { $0 } })
        let account = try store.create(.serviceAccount, namespace: "default", ["metadata": ["name": "robot"]])
        let uid = try #require(account["metadata"]?["uid"]?.string)
        let token = authenticator.tokens.mint(.init(namespace: "default", name: "robot", uid: uid, expires: 1_000_600))
        let user = try #require(authenticator.user(["Authorization": "Bearer \(token)"]))
        #expect(user.name == "system:serviceaccount:default:robot")
        #expect(user.groups == ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"])
        #expect(user.serviceAccount?.name == "robot" && user.serviceAccount?.namespace == "default")

        // Another cluster's key, a changed claim, an expired token: nobody.
        let foreign = ServiceAccountTokens(adminToken: "other").mint(.init(namespace: "default", name: "robot", uid: uid, expires: 1_000_600))
        #expect(authenticator.user(["Authorization": "Bearer \(foreign)"]) == nil)
        let body = token.dropFirst(ServiceAccountTokens.prefix.count).split(separator: ".")
        let forged = ServiceAccountTokens.prefix + ServiceAccountTokens.base64URL(Data("default\nadmin\n\(uid)\n1000600".utf8)) + "." + body[1]
        #expect(authenticator.user(["Authorization": "Bearer \(forged)"]) == nil)
        clock.withLock { $0 = Date(timeIntervalSince1970: 1_000_600) }
        #expect(authenticator.user(["Authorization": "Bearer \(token)"]) == nil)

        // Deleted and made again under the same name: the old token is the old account's.
        clock.withLock { $0 = Date(timeIntervalSince1970: 1_000_000) }
        _ = try store.delete(.serviceAccount, namespace: "default", name: "robot")
        _ = try store.create(.serviceAccount, namespace: "default", ["metadata": ["name": "robot"]])
        #expect(authenticator.user(["Authorization": "Bearer \(token)"]) == nil)
    }

    @Test("paths name discovery documents, collections, objects and subresources")
    func targets() throws {
        let kinds = ResourceKind.all
        #expect(try APITarget.parse(["api", "v1", "pods"], kinds: kinds) == .collection(.pod, namespace: nil))
        #expect(try APITarget.parse(["api", "v1", "namespaces", "ns", "pods"], kinds: kinds) == .collection(.pod, namespace: "ns"))
        #expect(try APITarget.parse(["api", "v1", "namespaces", "ns"], kinds: kinds) == .object(.namespace, namespace: "", name: "ns", subresource: nil))
        #expect(try APITarget.parse(["api", "v1", "namespaces", "ns", "status"], kinds: kinds) == .object(.namespace, namespace: "", name: "ns", subresource: "status"))
        #expect(try APITarget.parse(["apis", "apps", "v1", "namespaces", "d", "replicasets", "r", "scale"], kinds: kinds)
            == .object(.replicaSet, namespace: "d", name: "r", subresource: "scale"))
        #expect(try APITarget.parse(["apis", "fma.llm-d.ai", "v1alpha1"], kinds: kinds) == .resourceList(group: "fma.llm-d.ai", version: "v1alpha1"))
        #expect(throws: APITarget.NotFound.self) { try APITarget.parse(["api", "v1", "pods", "p"], kinds: kinds) }
        #expect(throws: APITarget.NotFound.self) { try APITarget.parse(["api", "v1", "namespaces", "d", "configmaps", "c", "scale"], kinds: kinds) }
        #expect(throws: APITarget.NotFound.self) { try APITarget.parse(["apis", "batch", "v1"], kinds: kinds) }
    }

    @Test("a watch event written from its shared serialized object is the bytes of its JSON; replacing the object drops the shared text")
    func sharedWatchEventText() {
        let object: JSONObject = ["kind": "ConfigMap", "metadata": ["name": "a \"quoted\" name", "labels": ["x": "1"]], "data": ["k": "v"]]
        for type in [WatchEventType.added, .modified, .deleted] {
            let event = StoreEvent(type: type, object: SerializedObject(object))
            var bytes: [UInt8] = []
            event.serialize(into: &bytes)
            #expect(bytes == JSONValue.object(event.json).serialized())
        }
        var replaced = StoreEvent(type: .modified, object: SerializedObject(object))
        replaced.object = ["kind": "Table"]
        var bytes: [UInt8] = []
        replaced.serialize(into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"type":"MODIFIED","object":{"kind":"Table"}}"#)
    }

    @Test("a pod's Status column: Terminating, a container's waiting reason, and an ended pod's own reason")
    func podStatusColumn() throws {
        func status(_ text: String) throws -> String {
            TableConverter.podStatus(try #require(try JSONValue(parsing: text).object))
        }
        let waiting = #"{"state": {"waiting": {"reason": "ContainerCreating"}}}"#
        #expect(try status(#"{"status": {"phase": "Pending", "containerStatuses": [\#(waiting)]}}"#) == "ContainerCreating")
        #expect(try status(#"{"status": {"phase": "Failed", "reason": "OutOfpods", "containerStatuses": [\#(waiting)]}}"#) == "OutOfpods")
        #expect(try status(#"{"status": {"phase": "Running"}}"#) == "Running")
        #expect(try status(#"{"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}, "status": {"phase": "Running"}}"#) == "Terminating")
    }

    @Test("ages print as kubectl prints them")
    func ages() {
        #expect(TableConverter.humanDuration(5) == "5s")
        #expect(TableConverter.humanDuration(119) == "119s")
        #expect(TableConverter.humanDuration(125) == "2m5s")
        #expect(TableConverter.humanDuration(600) == "10m")
        #expect(TableConverter.humanDuration(3 * 3600 + 60) == "3h1m")
        #expect(TableConverter.humanDuration(30 * 3600) == "30h")
        #expect(TableConverter.humanDuration(3 * 86400 + 3600) == "3d1h")
        #expect(TableConverter.humanDuration(-5) == "<invalid>")
    }

    @Test("names, label keys and values follow Kubernetes' rules")
    func names() {
        #expect(NameRules.dns1123Subdomain("a.b-c") == nil)
        #expect(NameRules.dns1123Subdomain("A") != nil)
        #expect(NameRules.dns1123Subdomain("a..b") != nil)
        #expect(NameRules.dns1123Label("a.b") != nil)
        #expect(NameRules.dns1035Label("1a") != nil)
        #expect(NameRules.qualifiedName("example.com/My_Name") == nil)
        #expect(NameRules.qualifiedName("/x") != nil)
        #expect(NameRules.qualifiedName("a/b/c") != nil)
        #expect(NameRules.labelValue("") == nil)
        #expect(NameRules.labelValue("-x") != nil)
        #expect(NameRules.labelValue(String(repeating: "x", count: 64)) != nil)
    }

    @Test("a log's tail is found at the end of a log larger than the search window")
    func tailOfALargeLog() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/big.log"
            let line = Array(repeating: UInt8(ascii: "x"), count: 1023) + [UInt8(ascii: "\n")]
            var data = Data()
            for _ in 0..<(65 << 10) { data.append(contentsOf: line) }  // 65 MiB
            let tail = Array("second to last\nlast\n".utf8)
            data.append(contentsOf: tail)
            #expect(FileManager.default.createFile(atPath: path, contents: data))
            #expect(KubeAPI.startOffset(path: path, tailLines: 2) == UInt64(data.count - tail.count))
            #expect(KubeAPI.startOffset(path: path, tailLines: 0) == UInt64(data.count))
        }
    }

    @Test("protobuf bodies as kubectl sends them: Namespace, ConfigMap, DeleteOptions; other kinds are 415")
    func protobufBodies() throws {
        // The bytes kubectl 1.32 sends for `create ns sw9`, `create cm c9 --from-literal=a=b`
        // and `drain --grace-period=5` (its DELETE).
        let namespace: [UInt8] = [0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0f, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x09] + Array("Namespace".utf8)
            + [0x12, 0x1b, 0x0a, 0x13, 0x0a, 0x03] + Array("sw9".utf8)
            + [0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00, 0x32, 0x00, 0x38, 0x00, 0x42, 0x00, 0x12, 0x00, 0x1a, 0x02, 0x0a, 0x00, 0x1a, 0x00, 0x22, 0x00]
        let ns = try ProtobufBody.decode(namespace)
        #expect(ns["kind"] == "Namespace" && ns["apiVersion"] == "v1")
        #expect(ns["metadata"] == ["name": "sw9"])

        let configMap: [UInt8] = [0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0f, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x09] + Array("ConfigMap".utf8)
            + [0x12, 0x1c, 0x0a, 0x12, 0x0a, 0x02] + Array("c9".utf8)
            + [0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00, 0x32, 0x00, 0x38, 0x00, 0x42, 0x00, 0x12, 0x06, 0x0a, 0x01, 0x61, 0x12, 0x01, 0x62, 0x1a, 0x00, 0x22, 0x00]
        let cm = try ProtobufBody.decode(configMap)
        #expect(cm["metadata"] == ["name": "c9"])
        #expect(cm["data"] == ["a": "b"])

        let delete: [UInt8] = [0x6b, 0x38, 0x73, 0x00, 0x0a, 0x13, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x0d] + Array("DeleteOptions".utf8)
            + [0x12, 0x02, 0x08, 0x05, 0x1a, 0x00, 0x22, 0x00]
        let options = try DeleteOptions(json: try ProtobufBody.decode(delete))
        #expect(options.gracePeriodSeconds == 5)

        let pod: [UInt8] = [0x6b, 0x38, 0x73, 0x00, 0x0a, 0x09, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x03] + Array("Pod".utf8) + [0x12, 0x00]
        #expect { try ProtobufBody.decode(pod) } throws: { ($0 as? KubeStatus)?.code == 415 }
        #expect { try ProtobufBody.decode(Array(namespace.dropLast(3))) } throws: { ($0 as? KubeStatus)?.code == 400 }
        #expect { try ProtobufBody.decode([0x7b, 0x7d]) } throws: { ($0 as? KubeStatus)?.code == 400 }
    }

    @Test("Accept headers choose a Table or JSON; protobuf alone is 406")
    func negotiation() throws {
        #expect(try ResponseFormat.negotiate([:]) == .json)
        #expect(try ResponseFormat.negotiate(["Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"]) == .table)
        #expect(try ResponseFormat.negotiate(["Accept": "application/vnd.kubernetes.protobuf, */*"]) == .json)
        #expect(throws: KubeStatus.self) { try ResponseFormat.negotiate(["Accept": "application/vnd.kubernetes.protobuf"]) }
    }
}
