import FMATestSupport
import Foundation
import Testing

/// Debian's kubectl (the real Kubernetes client, v1.32) against the real fma-devcluster
/// executable: discovery, tables, create, apply, label, annotate, scale, delete, watch.
@Suite("kubectl against fma-devcluster", .enabled(if: KubectlCluster.kubectlInstalled, "kubectl is not installed at /usr/bin/kubectl (make setup installs Debian's kubernetes-client)"))
struct KubectlTests {
    @Test("get ns and get pods print tables like a real cluster; version, api-resources, auth can-i and whoami")
    func getTables() async throws {
        try await KubectlCluster.with { cluster in
            let namespaces = try await cluster.kubectl("get", "ns")
            #expect(namespaces.contains("NAME"))
            #expect(namespaces.contains("STATUS"))
            for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
                #expect(namespaces.contains(name))
            }
            let pods = try await cluster.run("get", "pods")
            #expect(pods.status == 0)
            #expect(pods.stderr.contains("No resources found in default namespace."))
            let resources = try await cluster.kubectl("api-resources")
            #expect(resources.contains("launcherpopulationpolicies") && resources.contains("lpp"))
            let version = try await cluster.kubectl("version")
            #expect(version.contains("Server Version: v1.32"))
            // The admin token may do everything: auth can-i's SelfSubjectAccessReview says so.
            #expect(try await cluster.kubectl("auth", "can-i", "create", "pods") == "yes")
            let whoami = try await cluster.kubectl("auth", "whoami")
            #expect(whoami.contains("fma-devcluster-admin") && whoami.contains("system:masters"), "\(whoami)")
            #expect(try await cluster.kubectl("auth", "can-i", "delete", "isc", "-A") == "yes")
        }
    }

    @Test("create -f and apply -f of FMA's example manifests; apply twice with a change")
    func createAndApplyExamples() async throws {
        try await KubectlCluster.with { cluster in
            let examples = repositoryRoot + "/deploy/examples"
            let created = try await cluster.kubectl("create", "-f", "\(examples)/launcherconfig.yaml")
            #expect(created.contains("launcherconfig.fma.llm-d.ai/fake-vllm-launcher created"))
            let applied = try await cluster.kubectl("apply", "-f", examples)
            #expect(applied.contains("inferenceserverconfig.fma.llm-d.ai/fake-model created"))
            #expect(applied.contains("launcherpopulationpolicy.fma.llm-d.ai/launcher-per-gpu-node created"))
            #expect(applied.contains("launcherconfig.fma.llm-d.ai/fake-vllm-launcher"))
            let again = try await cluster.kubectl("apply", "-f", examples)
            #expect(again.contains("inferenceserverconfig.fma.llm-d.ai/fake-model unchanged"))

            let isc = try String(contentsOfFile: "\(examples)/inferenceserverconfig.yaml", encoding: .utf8)
            let changed = cluster.directory + "/isc.yaml"
            try isc.replacing("port: 8005", with: "port: 8006").write(toFile: changed, atomically: true, encoding: .utf8)
            #expect(try await cluster.kubectl("apply", "-f", changed).contains("fake-model configured"))
            #expect(try await cluster.kubectl("get", "isc", "fake-model", "-o", "jsonpath={.spec.modelServerConfig.port}") == "8006")
            let listed = try await cluster.kubectl("get", "isc,lcfg,lpp")
            #expect(listed.contains("fake-model") && listed.contains("fake-vllm-launcher") && listed.contains("launcher-per-gpu-node"))
        }
    }

    @Test("a ConfigMap: apply, apply a change, label, annotate, delete")
    func configMapLifecycle() async throws {
        try await KubectlCluster.with { cluster in
            let file = cluster.directory + "/cm.yaml"
            let manifest = """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: settings
                data:
                  mode: "fast"

                """
            try manifest.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try await cluster.kubectl("apply", "-f", file).contains("configmap/settings created"))
            try manifest.replacing("fast", with: "faster").write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try await cluster.kubectl("apply", "-f", file).contains("configmap/settings configured"))
            #expect(try await cluster.kubectl("get", "cm", "settings", "-o", "jsonpath={.data.mode}") == "faster")

            #expect(try await cluster.kubectl("label", "cm", "settings", "tier=web").contains("labeled"))
            #expect(try await cluster.kubectl("annotate", "cm", "settings", "note=hello").contains("annotated"))
            #expect(try await cluster.kubectl("get", "cm", "-l", "tier=web", "-o", "name") == "configmap/settings")
            #expect(try await cluster.kubectl("get", "cm", "settings", "-o", "jsonpath={.metadata.annotations.note}") == "hello")

            #expect(try await cluster.kubectl("delete", "-f", file).contains("configmap \"settings\" deleted"))
            let gone = try await cluster.run("get", "cm", "settings")
            #expect(gone.status != 0)
            #expect(gone.stderr.contains("NotFound"))
        }
    }

    @Test("invalid objects are refused with the server's reasons; kubectl patch's strategic merge works on built-in kinds, not custom ones")
    func refusals() async throws {
        try await KubectlCluster.with { cluster in
            let file = cluster.directory + "/lpp.yaml"
            try """
                apiVersion: fma.llm-d.ai/v1alpha1
                kind: LauncherPopulationPolicy
                metadata:
                  name: twice
                spec:
                  enhancedNodeSelector:
                    labelSelector: {}
                  countForLauncher:
                  - launcherConfigName: a
                    launcherCount: 1
                  - launcherConfigName: a
                    launcherCount: 2

                """.write(toFile: file, atomically: true, encoding: .utf8)
            let refused = try await cluster.run("apply", "-f", file)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("is invalid"))
            #expect(refused.stderr.contains("spec.countForLauncher[1]: Duplicate value"))

            // A Pod with a misspelt field: kubectl's default (--validate=strict) is refused with
            // the field named; --validate=warn stores the Pod without it and prints a warning.
            let typo = cluster.directory + "/typo.yaml"
            try """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: typo
                spec:
                  nodeSelector: {no-such: node}
                  containers:
                  - name: c
                    image: example/image:1
                    comand: [sleep, "1"]

                """.write(toFile: typo, atomically: true, encoding: .utf8)
            let strictTypo = try await cluster.run("apply", "-f", typo)
            #expect(strictTypo.status != 0)
            #expect(strictTypo.stderr.contains(#"strict decoding error: unknown field "spec.containers[0].comand""#), "\(strictTypo.stderr)")
            let warnedTypo = try await cluster.run("apply", "--validate=warn", "-f", typo)
            #expect(warnedTypo.status == 0)
            #expect(warnedTypo.stderr.contains(#"unknown field "spec.containers[0].comand""#), "\(warnedTypo.stderr)")
            #expect(try await cluster.kubectl("get", "pod", "typo", "-o", "jsonpath={.spec.containers[0].comand}").isEmpty)

            _ = try await cluster.kubectl("apply", "-f", repositoryRoot + "/deploy/examples/inferenceserverconfig.yaml")
            let cm = cluster.directory + "/cm.yaml"
            try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n".write(toFile: cm, atomically: true, encoding: .utf8)
            _ = try await cluster.kubectl("create", "-f", cm)
            _ = try await cluster.kubectl("patch", "cm", "plain", "-p", #"{"metadata":{"finalizers":["a/b"]}}"#)
            _ = try await cluster.kubectl("patch", "cm", "plain", "-p", #"{"metadata":{"finalizers":["a/c"]}}"#)
            let finalizers = try await cluster.kubectl("get", "cm", "plain", "-o", "jsonpath={.metadata.finalizers}")
            #expect(finalizers.contains("a/b") && finalizers.contains("a/c"), "a strategic patch adds to the finalizers: \(finalizers)")
            _ = try await cluster.kubectl("patch", "cm", "plain", "--type=merge", "-p", #"{"metadata":{"finalizers":null}}"#)
            let strategic = try await cluster.run("patch", "isc", "fake-model", "-p", #"{"spec":{"modelServerConfig":{"port":8001}}}"#)
            #expect(strategic.status != 0)
            #expect(strategic.stderr.contains("custom resource"), "\(strategic.stderr)")
            let merge = try await cluster.run("patch", "isc", "fake-model", "--type=merge", "-p", #"{"spec":{"modelServerConfig":{"port":0}}}"#)
            #expect(merge.status != 0)
            #expect(merge.stderr.contains("spec.modelServerConfig.port"))
        }
    }

    @Test("scale rs changes spec.replicas through the scale subresource; patch rs merges a container by name")
    func scaleReplicaSet() async throws {
        try await KubectlCluster.with { cluster in
            let file = cluster.directory + "/rs.yaml"
            try """
                apiVersion: apps/v1
                kind: ReplicaSet
                metadata:
                  name: web
                spec:
                  replicas: 1
                  selector:
                    matchLabels:
                      app: web
                  template:
                    metadata:
                      labels:
                        app: web
                    spec:
                      containers:
                      - name: web
                        image: registry.example/web:1

                """.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try await cluster.kubectl("create", "-f", file).contains("replicaset.apps/web created"))
            #expect(try await cluster.kubectl("scale", "rs", "web", "--replicas=3").contains("replicaset.apps/web scaled"))
            #expect(try await cluster.kubectl("get", "rs", "web", "-o", "jsonpath={.spec.replicas}") == "3")
            // FMA's acceptance suite pins a GPU this way: kubectl patch's default (strategic) type.
            _ = try await cluster.kubectl("patch", "rs", "web", "-p", #"{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"NVIDIA_VISIBLE_DEVICES","value":"GPU-1"}]}]}}}}"#)
            #expect(try await cluster.kubectl("get", "rs", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}") == "registry.example/web:1")
            #expect(try await cluster.kubectl("get", "rs", "web", "-o", "jsonpath={.spec.template.spec.containers[0].env[0].value}") == "GPU-1")
            let table = try await cluster.kubectl("get", "rs", "web", "-o", "wide")
            #expect(table.contains("DESIRED") && table.contains("SELECTOR") && table.contains("app=web"))
            #expect(try await cluster.kubectl("delete", "rs", "web").contains("replicaset.apps \"web\" deleted"))
        }
    }

    @Test("a Deployment rolls out through ReplicaSets (rollout status, set image), a DaemonSet follows node labels; apply -k deploy/overlays/devcluster stores every object")
    func deploymentsDaemonSetsAndDeploy() async throws {
        try await KubectlCluster.with(nodes: 2) { cluster in
            let file = cluster.directory + "/workloads.yaml"
            try """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers:
                      - {name: web, image: registry.example/web:1}
                ---
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: {name: agent}
                spec:
                  selector: {matchLabels: {app: agent}}
                  template:
                    metadata: {labels: {app: agent}}
                    spec:
                      nodeSelector: {pool: a}
                      containers:
                      - {name: agent, image: registry.example/agent:1}

                """.write(toFile: file, atomically: true, encoding: .utf8)
            let applied = try await cluster.kubectl("apply", "-f", file)
            #expect(applied.contains("deployment.apps/web created") && applied.contains("daemonset.apps/agent created"))
            #expect(try await cluster.kubectl("rollout", "status", "deployment/web", "--timeout=60s").contains("successfully rolled out"))
            let first = try await cluster.kubectl("get", "rs", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}")
            #expect(first.split(separator: " ").count == 1 && first.hasPrefix("web-"))
            #expect(try await cluster.kubectl("get", "pods", "-l", "app=web", "-o", "name").split(separator: "\n").count == 2)

            // A new template: a second ReplicaSet takes over, the first is scaled to zero.
            _ = try await cluster.kubectl("set", "image", "deployment/web", "web=registry.example/web:2")
            #expect(try await cluster.kubectl("rollout", "status", "deployment/web", "--timeout=60s").contains("successfully rolled out"))
            try await waitUntil(timeout: .seconds(60), "the old ReplicaSet's pods to go", every: .milliseconds(200)) {
                let images = (try? await cluster.kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.containers[0].image}")) ?? ""
                return images == "registry.example/web:2 registry.example/web:2"
            }
            let replicas = try await cluster.kubectl("get", "rs", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.spec.replicas}{\"\\n\"}{end}")
            #expect(replicas.split(separator: "\n").sorted() == ["0", "2"])

            // The DaemonSet: no node in pool a yet, then one, then the other, then one leaves.
            #expect(try await cluster.kubectl("get", "pods", "-l", "app=agent", "-o", "name").isEmpty)
            _ = try await cluster.kubectl("label", "node", "node-1", "pool=a")
            try await waitUntil(timeout: .seconds(60), "an agent on node-1", every: .milliseconds(200)) {
                (try? await cluster.kubectl("get", "pods", "-l", "app=agent", "-o", "jsonpath={.items[*].spec.nodeName}")) == "node-1"
            }
            _ = try await cluster.kubectl("label", "node", "node-2", "pool=a")
            #expect(try await cluster.kubectl("rollout", "status", "daemonset/agent", "--timeout=60s").contains("successfully rolled out"))
            #expect(try await cluster.kubectl("get", "ds", "agent", "-o", "jsonpath={.status.desiredNumberScheduled}") == "2")
            let dsTable = try await cluster.kubectl("get", "ds", "agent")
            #expect(dsTable.contains("DESIRED") && dsTable.contains("NODE SELECTOR") && dsTable.contains("pool=a"), "\(dsTable)")
            let deployTable = try await cluster.kubectl("get", "deploy", "web")
            #expect(deployTable.contains("UP-TO-DATE") && deployTable.contains("2/2"), "\(deployTable)")
            _ = try await cluster.kubectl("label", "node", "node-1", "pool-")
            try await waitUntil(timeout: .seconds(60), "node-1's agent to go", every: .milliseconds(200)) {
                // Each pod as "NODE DELETION-TIMESTAMP": node-1's is gone or being deleted.
                let lines = (try? await cluster.kubectl("get", "pods", "-l", "app=agent", "-o",
                                                        "jsonpath={range .items[*]}{.spec.nodeName} {.metadata.deletionTimestamp}{\"\\n\"}{end}")) ?? ""
                let live = lines.split(separator: "\n").map { $0.split(separator: " ") }.filter { $0.count == 1 }.map { String($0[0]) }
                return live == ["node-2"]
            }

            // deploy/: every kind it renders is served (stored; RBAC and policies not enforced).
            let installed = try await cluster.kubectl("apply", "-k", repositoryRoot + "/deploy/overlays/devcluster")
            for line in ["customresourcedefinition.apiextensions.k8s.io/launcherconfigs.fma.llm-d.ai created",
                         "clusterrole.rbac.authorization.k8s.io/fma-controller-nodes created",
                         "rolebinding.rbac.authorization.k8s.io/fma-controller created",
                         "networkpolicy.networking.k8s.io/fma-launcher-ports created",
                         "validatingadmissionpolicy.admissionregistration.k8s.io/fma-immutable-fields created",
                         "deployment.apps/fma-controller created", "serviceaccount/fma-controller created",
                         "launcherconfig.fma.llm-d.ai/vllm-launcher created"] {
                #expect(installed.contains(line), "\(line) in \(installed)")
            }
            #expect(try await cluster.kubectl("get", "crd", "-o", "name").split(separator: "\n").count == 3)
        }
    }

    @Test("cordon and uncordon a node, and kubectl patch's default strategic patch of its labels")
    func cordonAndPatch() async throws {
        try await KubectlCluster.with { cluster in
            let file = cluster.directory + "/node.yaml"
            try "apiVersion: v1\nkind: Node\nmetadata:\n  name: node-a\n".write(toFile: file, atomically: true, encoding: .utf8)
            _ = try await cluster.kubectl("create", "-f", file)
            #expect(try await cluster.kubectl("cordon", "node-a").contains("node/node-a cordoned"))
            #expect(try await cluster.kubectl("get", "node", "node-a", "-o", "jsonpath={.spec.unschedulable}") == "true")
            #expect(try await cluster.kubectl("get", "nodes").contains("SchedulingDisabled"))
            #expect(try await cluster.kubectl("uncordon", "node-a").contains("node/node-a uncordoned"))
            #expect(try await cluster.kubectl("patch", "node", "node-a", "-p", #"{"metadata":{"labels":{"zone":"a"}}}"#).contains("patched"))
            #expect(try await cluster.kubectl("get", "nodes", "-l", "zone=a", "-o", "name") == "node/node-a")
        }
    }

    @Test("create namespace and create configmap --from-literal (protobuf bodies); drain deletes a node's pods")
    func typedCommandsAndDrain() async throws {
        try await KubectlCluster.with { cluster in
            #expect(try await cluster.kubectl("create", "namespace", "team-a") == "namespace/team-a created")
            #expect(try await cluster.kubectl("create", "configmap", "opts", "-n", "team-a", "--from-literal=mode=fast", "--from-literal=level=2")
                == "configmap/opts created")
            #expect(try await cluster.kubectl("get", "cm", "opts", "-n", "team-a", "-o", "jsonpath={.data.mode} {.data.level}") == "fast 2")
            let service = try await cluster.run("create", "service", "clusterip", "web", "--tcp=80:8080")
            #expect(service.status != 0)
            #expect(service.stderr.contains("is supported by fma-devcluster only for DeleteOptions, Namespace, ConfigMap, Secret, ServiceAccount,")
                && service.stderr.contains("not v1 Service: send application/json"))

            let file = cluster.directory + "/drain.yaml"
            try """
                apiVersion: v1
                kind: Node
                metadata:
                  name: node-a
                ---
                apiVersion: v1
                kind: Pod
                metadata:
                  name: bound
                spec:
                  nodeName: node-a
                  containers:
                  - name: c
                    image: busybox

                """.write(toFile: file, atomically: true, encoding: .utf8)
            _ = try await cluster.kubectl("create", "-f", file)
            // The pod has no kubelet to finish a graceful delete: only the DeleteOptions' grace
            // period of 0 (read from kubectl's protobuf body) removes it at once.
            let drained = try await cluster.kubectl("drain", "node-a", "--ignore-daemonsets", "--force", "--grace-period=0", "--timeout=20s")
            #expect(drained.contains("pod/bound deleted") && drained.contains("node/node-a drained"))
            #expect(try await cluster.run("get", "pod", "bound").stderr.contains("NotFound"))
        }
    }

    @Test("leases: create -f, get prints NAME HOLDER AGE, get -o yaml, describe; an invalid spec names its field")
    func leases() async throws {
        try await KubectlCluster.with { cluster in
            let file = cluster.directory + "/lease.yaml"
            try """
                apiVersion: coordination.k8s.io/v1
                kind: Lease
                metadata:
                  name: fma-controller
                spec:
                  holderIdentity: replica-a
                  leaseDurationSeconds: 15
                  renewTime: "2026-01-02T03:04:05.000000Z"

                """.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try await cluster.kubectl("create", "-f", file) == "lease.coordination.k8s.io/fma-controller created")
            let table = try await cluster.kubectl("get", "lease").split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(table.first == ["NAME", "HOLDER", "AGE"])
            #expect(table.dropFirst().first?.prefix(2) == ["fma-controller", "replica-a"])
            let yaml = try await cluster.kubectl("get", "leases", "-o", "yaml")
            #expect(yaml.contains("holderIdentity: replica-a") && yaml.contains("leaseDurationSeconds: 15"))
            let described = try await cluster.kubectl("describe", "lease", "fma-controller")
            #expect(described.contains("Holder Identity:") && described.contains("replica-a"))
            #expect(described.contains("Lease Duration Seconds:"))

            try String(contentsOfFile: file, encoding: .utf8).replacing("leaseDurationSeconds: 15", with: "leaseDurationSeconds: 0")
                .replacing("fma-controller", with: "broken").write(toFile: file, atomically: true, encoding: .utf8)
            let invalid = try await cluster.run("create", "-f", file)
            #expect(invalid.status != 0)
            #expect(invalid.stderr.contains("spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"), "\(invalid.stderr)")
        }
    }

    @Test("create secret generic and create serviceaccount (protobuf bodies); get and describe them")
    func secretsAndServiceAccounts() async throws {
        try await KubectlCluster.with { cluster in
            #expect(try await cluster.kubectl("create", "secret", "generic", "creds", "--from-literal=user=admin", "--from-literal=password=s3cret")
                == "secret/creds created")
            #expect(try await cluster.kubectl("get", "secret", "creds", "-o", "jsonpath={.type} {.data.user}") == "Opaque YWRtaW4=")
            let table = try await cluster.kubectl("get", "secrets").split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(table.first == ["NAME", "TYPE", "DATA", "AGE"])
            #expect(table.dropFirst().first?.prefix(3) == ["creds", "Opaque", "2"])
            let described = try await cluster.kubectl("describe", "secret", "creds")
            #expect(described.contains("Type:  Opaque") && described.contains("password:  6 bytes") && described.contains("user:"))
            #expect(!described.contains("s3cret"))

            #expect(try await cluster.kubectl("create", "serviceaccount", "robot") == "serviceaccount/robot created")
            let accounts = try await cluster.kubectl("get", "sa").split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(accounts.first == ["NAME", "SECRETS", "AGE"])
            #expect(accounts.dropFirst().map { Array($0.prefix(2)) } == [["default", "0"], ["robot", "0"]], "every namespace has its default account")
            #expect(try await cluster.kubectl("describe", "serviceaccount", "robot").contains("Name:                robot"))
        }
    }

    @Test("exec, attach, port-forward and debug fail at once with a message saying what to do instead")
    func unservedPodSubresources() async throws {
        try await KubectlCluster.with { cluster in
            let file = cluster.directory + "/pod.yaml"
            try "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n"
                .write(toFile: file, atomically: true, encoding: .utf8)
            _ = try await cluster.kubectl("create", "-f", file)
            _ = try await cluster.kubectl("patch", "pod", "p", "--subresource=status", "--type=merge", "-p", #"{"status":{"phase":"Running"}}"#)
            let exec = try await cluster.run("exec", "p", "--", "ls")
            #expect(exec.status == 1)
            #expect(exec.stderr.contains("pods/exec is not served by fma-devcluster") && exec.stderr.contains("kubectl logs"))
            let attach = try await cluster.run("attach", "p")
            #expect(attach.status == 1)
            #expect(attach.stderr.contains("pods/attach is not served by fma-devcluster"))
            let forward = try await cluster.run("port-forward", "pod/p", "18000:8000")
            #expect(forward.status == 1)
            #expect(forward.stderr.contains("pods/portforward is not served by fma-devcluster") && forward.stderr.contains("connect to the pod's IP"))
            // kubectl debug reads the 404's details to tell a missing subresource from a missing
            // pod; without them it panics.
            let debug = try await cluster.run("debug", "p", "--image=busybox", "--profile=general")
            #expect(debug.status == 1)
            #expect(debug.stderr.contains("ephemeral containers are disabled for this cluster"))
            #expect(!debug.stderr.contains("panic"))
        }
    }

    @Test("explain shows a kind's top-level fields and where they are described (OpenAPI v3, and v2 as protobuf); top says why it has nothing")
    func explainAndTop() async throws {
        try await KubectlCluster.with { cluster in
            let pods = try await cluster.kubectl("explain", "pods")
            #expect(pods.contains("KIND:       Pod") && pods.contains("spec\t<Object>"))
            #expect(pods.contains("https://kubernetes.io/docs/reference/kubernetes-api/"))
            let spec = try await cluster.kubectl("explain", "pods.spec")
            #expect(spec.contains("fma-devcluster does not describe this field further"))
            // client-go reads /openapi/v2 only as protobuf.
            let v2 = try await cluster.kubectl("explain", "lcfg", "--output=plaintext-openapiv2")
            #expect(v2.contains("KIND:     LauncherConfig") && v2.contains("deploy/examples"), "\(v2)")
            let events = try await cluster.kubectl("explain", "events", "--api-version=events.k8s.io/v1")
            #expect(events.contains("regarding") && events.contains("note"))
            for what in ["nodes", "pods"] {
                let top = try await cluster.run("top", what)
                #expect(top.status == 1)
                #expect(top.stderr.contains("ServiceUnavailable") && top.stderr.contains("fma-devcluster runs no metrics server"), "\(top.stderr)")
            }
        }
    }

    @Test("events.k8s.io/v1: create -f, get through both APIs, field selector by regarding")
    func eventsV1() async throws {
        try await KubectlCluster.with { cluster in
            let file = try cluster.manifest("event.yaml", """
                apiVersion: events.k8s.io/v1
                kind: Event
                metadata: {name: e1}
                eventTime: "2026-12-06T04:00:00.000000Z"
                reportingController: example.com/ctl
                reportingInstance: ctl-1
                action: Binding
                reason: Bound
                type: Normal
                note: bound the thing
                regarding: {kind: Pod, name: p1, namespace: default}

                """)
            #expect(try await cluster.kubectl("create", "-f", file).contains("event.events.k8s.io/e1 created"))
            let core = try await cluster.kubectl("get", "events", "e1", "-o", "jsonpath={.message}/{.involvedObject.name}")
            #expect(core == "bound the thing/p1")
            let table = try await cluster.kubectl("get", "events.events.k8s.io", "--field-selector", "regarding.name=p1")
            #expect(table.contains("Bound") && table.contains("pod/p1") && table.contains("bound the thing"))
        }
    }

    @Test("get -w prints a change made while it watches")
    func watchSeesChange() async throws {
        try await KubectlCluster.with { cluster in
            let file = cluster.directory + "/cm.yaml"
            try """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: watched
                  labels:
                    color: red

                """.write(toFile: file, atomically: true, encoding: .utf8)
            _ = try await cluster.kubectl("create", "-f", file)
            let watcher = try cluster.start("get", "cm", "watched", "-w", "-o", "jsonpath={.metadata.labels.color}{\"\\n\"}")
            defer { watcher.stop() }
            try await waitUntil("kubectl get -w to print the first state") { watcher.stdout.contains("red") }
            _ = try await cluster.kubectl("label", "cm", "watched", "color=blue", "--overwrite")
            try await waitUntil("kubectl get -w to print the change") { watcher.stdout.contains("blue") }
            #expect(watcher.stdout.split(separator: "\n") == ["red", "blue"])
        }
    }
}

/// A running `fma-devcluster serve` process (no simulated nodes) and how to run kubectl
/// against it: KUBECONFIG from its state directory, HOME in the test's directory (kubectl's
/// discovery cache stays there).
struct KubectlCluster: Sendable {
    static let kubectl = "/usr/bin/kubectl"
    static var kubectlInstalled: Bool { FileManager.default.isExecutableFile(atPath: kubectl) }

    let directory: String
    let kubeconfig: String

    /// The fma-devcluster built with these tests: next to the test bundle, else `binDirectory`.
    static var executable: String {
        if ProcessInfo.processInfo.environment["FMA_BIN_DIR"] == nil {
            let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
            if FileManager.default.isExecutableFile(atPath: here + "/fma-devcluster") { return here + "/fma-devcluster" }
        }
        return binDirectory + "/fma-devcluster"
    }

    /// A cluster of `nodes` simulated nodes (their pods' containers simulated unless they run
    /// this project's programs).
    static func with(nodes: Int = 0, _ body: @Sendable (KubectlCluster) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            let ready = directory + "/ready"
            let server = try ChildProcess(executable, ["serve", "--state-dir", directory + "/state", "--nodes", String(nodes), "--ready-file", ready],
                                          directory: directory)
            defer { server.stop() }
            try await waitUntil("fma-devcluster's ready file") {
                FileManager.default.fileExists(atPath: ready) || kill(server.pid, 0) != 0
            }
            guard let lines = try? String(contentsOfFile: ready, encoding: .utf8).split(separator: "\n"), lines.count >= 2 else {
                throw TestSupportError("fma-devcluster did not start: \(server.stderr)")
            }
            // The line is printed just after the ready file is written; the pipe may lag.
            try await waitUntil("fma-devcluster's export KUBECONFIG line") { server.stdout.contains("export KUBECONFIG=\(lines[1])") }
            try await body(KubectlCluster(directory: directory, kubeconfig: String(lines[1])))
            server.signal(SIGTERM)
            let termination = try await server.waitForExit(timeout: .seconds(20))
            #expect(termination.exitCode == 0, "fma-devcluster after SIGTERM: \(termination); stderr: \(server.stderr)")
        }
    }

    var environment: [String: String] { ["KUBECONFIG": kubeconfig, "HOME": directory] }

    /// Writes a manifest into the cluster's directory and answers its path.
    func manifest(_ name: String, _ text: String) throws -> String {
        let file = "\(directory)/\(name)"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Runs kubectl to completion (bounded).
    func run(_ arguments: String...) async throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try await runCommand(Self.kubectl, arguments, directory: directory, environment: environment, timeout: .seconds(60))
        return (result.termination.exitCode ?? -1, result.stdout, result.stderr)
    }

    /// Runs kubectl, expects success, and answers its standard output without the final newline.
    func kubectl(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let result = try await runCommand(Self.kubectl, arguments, directory: directory, environment: environment, timeout: .seconds(60))
        #expect(result.termination.exitCode == 0, "kubectl \(arguments.joined(separator: " ")): \(result.stderr)", sourceLocation: sourceLocation)
        var output = result.stdout
        while output.hasSuffix("\n") { output.removeLast() }
        return output
    }

    /// Starts kubectl in the background (stop it with `stop()`).
    func start(_ arguments: String...) throws -> ChildProcess {
        try ChildProcess(Self.kubectl, arguments, directory: directory, environment: environment, name: "kubectl")
    }
}
