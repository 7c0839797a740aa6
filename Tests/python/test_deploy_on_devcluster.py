"""deploy/ installed on fma-devcluster with ``kubectl apply -k deploy/overlays/devcluster``:
every component under its own ServiceAccount with RBAC enforced, a requester ReplicaSet served
end to end by the controller running as a Pod with its Role's token, and a 403 for every
permission taken out of the controller's Role or ClusterRole. Every wait is bounded; the cluster
is stopped by its process group.
"""

from __future__ import annotations

import copy
import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import project_binary, stop_process_group

ROOT = Path(__file__).resolve().parents[2]
NS = "default"
TIMEOUT = 120.0


class Cluster:
    def __init__(self, url: str, kubeconfig: str, ca: str) -> None:
        self.url, self.kubeconfig, self.ca = url, kubeconfig, ca

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        result = subprocess.run(["kubectl", *args], env={**os.environ, "KUBECONFIG": self.kubeconfig},
                                input=input, capture_output=True, text=True, timeout=60)
        assert not check or result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
        return result.stdout + result.stderr

    def request(self, method: str, path: str, token: str, body: dict | None = None,
                content_type: str = "application/json") -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
        context = ssl.create_default_context(cafile=self.ca)
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as response:
                return response.status, {}
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            return error.code, json.loads(text) if text.startswith("{") else {}

    def wait(self, what: str, condition) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            assert time.monotonic() < deadline, (f"{what} within {TIMEOUT:.0f} s:\n{self.kubectl('get', 'pods', '-o', 'wide')}\n"
                                                 f"{self.kubectl('logs', 'deploy/fma-controller', check=False)[-3000:]}")
            time.sleep(0.25)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    state = tmp_path_factory.mktemp("deploy")
    ready = state / "ready"
    log = open(state / "log", "wb")
    process = subprocess.Popen(
        [str(project_binary("fma-devcluster")), "serve", "--state-dir", str(state / "cluster"), "--ready-file", str(ready),
         "--nodes", "2", "--gpus-per-node", "2", "--gpu-inventories", "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert process.poll() is None, f"fma-devcluster exited: {(state / 'log').read_text()}"
            assert time.monotonic() < deadline, "fma-devcluster wrote no ready file in time"
            time.sleep(0.05)
        url, kubeconfig = ready.read_text().splitlines()[:2]
        cluster = Cluster(url, kubeconfig, str(state / "cluster" / "ca.crt"))
        cluster.kubectl("create", "secret", "generic", "fma-rpc-token", "--from-literal=token=" + os.urandom(16).hex())
        cluster.kubectl("apply", "-k", str(ROOT / "deploy/overlays/devcluster"))
        examples = ROOT / "deploy/examples"
        cluster.kubectl("apply", "-f", str(examples / "inferenceserverconfig.yaml"), "-f", str(examples / "launcherconfig.yaml"),
                        "-f", str(examples / "requesters.yaml"))
        yield cluster
    finally:
        stop_process_group(process)
        log.close()


def pods(cluster: Cluster, selector: str) -> list[dict]:
    return json.loads(cluster.kubectl("get", "pods", "-l", selector, "-o", "json"))["items"]


def ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def test_the_controller_runs_as_a_pod_under_its_role_and_serves_a_requester(cluster: Cluster) -> None:
    cluster.wait("the requester served (Ready, bound to a launcher)", lambda: any(
        ready(pod) and pod["metadata"].get("labels", {}).get("dual-pods.llm-d.ai/dual")
        for pod in pods(cluster, "app=fake-model-servers")))
    [controller] = pods(cluster, "app.kubernetes.io/name=fma-controller")
    assert controller["spec"]["serviceAccountName"] == "fma-controller"
    logs = cluster.kubectl("logs", controller["metadata"]["name"])
    assert "became the leader" in logs and "inference server ready" in logs
    assert "403 Forbidden" not in logs and "is forbidden" not in logs, f"the Role lacks a permission the controller used:\n{logs}"
    # Its own token, as the kubelet gave it: a ServiceAccount user, not the admin's.
    token = cluster.kubectl("create", "token", "fma-controller").strip()
    status, _ = cluster.request("GET", f"/api/v1/namespaces/{NS}/secrets", token)
    assert status == 403


def test_the_admission_policies_keep_users_off_the_binding_metadata(cluster: Cluster) -> None:
    """FMA's validate.sh, against deploy's two ValidatingAdmissionPolicies: the admin may not
    change what fma-controller writes on a bound pair, and may change everything else."""
    [requester] = [pod for pod in pods(cluster, "app=fake-model-servers") if pod["metadata"].get("labels", {}).get("dual-pods.llm-d.ai/dual")]
    req, launcher = requester["metadata"]["name"], requester["metadata"]["labels"]["dual-pods.llm-d.ai/dual"]

    def refused(*args: str) -> str:
        out = subprocess.run(["kubectl", *args], env={**os.environ, "KUBECONFIG": cluster.kubeconfig}, capture_output=True, text=True, timeout=60)
        assert out.returncode != 0, f"kubectl {' '.join(args)} was allowed"
        assert "ValidatingAdmissionPolicy" in out.stderr and "denied request" in out.stderr, out.stderr
        return out.stderr

    message = refused("annotate", "pod", launcher, "dual-pods.llm-d.ai/requester=xyz patched-requester", "--overwrite")
    assert "'fma-immutable-fields' with binding 'bind-fma-immutable-fields'" in message
    assert "is written by fma-controller only" in message
    refused("label", "pod", launcher, "dual-pods.llm-d.ai/dual=patched-pod", "--overwrite")
    refused("label", "pod", launcher, "dual-pods.llm-d.ai/dual-")
    refused("annotate", "pod", launcher, "dual-pods.llm-d.ai/isc-routing-metadata=tampered", "--overwrite")
    message = refused("annotate", "pod", req, "dual-pods.llm-d.ai/inference-server-config=patched-config", "--overwrite")
    assert "'fma-bound-serverreqpod'" in message
    refused("annotate", "pod", req, "dual-pods.llm-d.ai/inference-server-config-")
    # Nothing changed, and what the policies do not protect may change.
    after = json.loads(cluster.kubectl("get", "pod", req, "-o", "json"))
    assert after["metadata"]["annotations"]["dual-pods.llm-d.ai/inference-server-config"] == \
        requester["metadata"]["annotations"]["dual-pods.llm-d.ai/inference-server-config"]
    cluster.kubectl("label", "pod", req, "regular-label=yes", "--overwrite")
    cluster.kubectl("apply", "-f", "-", input="""
apiVersion: v1
kind: Pod
metadata:
  name: unbound-requester
  annotations: {dual-pods.llm-d.ai/inference-server-config: unbound-config}
spec:
  nodeSelector: {no-such-node: "x"}
  containers: [{name: inference-server, image: example/requester:1}]
""")
    cluster.kubectl("annotate", "pod", "unbound-requester", "dual-pods.llm-d.ai/inference-server-config=new-unbound-config", "--overwrite")
    cluster.kubectl("label", "pod", "unbound-requester", "regular-label=yes", "--overwrite")
    cluster.kubectl("delete", "pod", "unbound-requester", "--wait=false")


DEPLOY_REQUESTER = """
apiVersion: fma.llm-d.ai/v1alpha1
kind: InferenceServerConfig
metadata: {name: deploy-model}
spec:
  launcherConfigName: vllm-launcher
  modelServerConfig: {port: 8006, options: --model fake/deploy-model}
---
apiVersion: v1
kind: Pod
metadata:
  name: deploy-requester
  annotations: {dual-pods.llm-d.ai/inference-server-config: deploy-model}
spec:
  serviceAccountName: fma-requester
  nodeSelector: {kubernetes.io/hostname: node-2}
  containers:
  - name: inference-server
    image: fma-gpu-inventory:0.1.0
    command: [fma-gpu-inventory, requester, --listen, "tcp://$(POD_IP):8082", --http-host, "$(POD_IP)"]
    env:
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: FMA_TOKEN
      valueFrom: {secretKeyRef: {name: fma-rpc-token, key: token}}
    ports:
    - {name: probes, containerPort: 8080}
    - {name: spi, containerPort: 8081}
    - {name: fma-rpc, containerPort: 8082}
    resources:
      limits: {nvidia.com/gpu: "1"}
    readinessProbe:
      httpGet: {path: /ready, port: 8080}
      periodSeconds: 1
"""


def test_deploys_own_launcher_config_serves_a_requester_each_under_its_own_account(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", "-", input=DEPLOY_REQUESTER)

    def served() -> bool:
        pod = json.loads(cluster.kubectl("get", "pod", "deploy-requester", "-o", "json"))
        return ready(pod) and bool(pod["metadata"].get("labels", {}).get("dual-pods.llm-d.ai/dual"))
    cluster.wait("the requester of deploy's LauncherConfig served", served)
    pod = json.loads(cluster.kubectl("get", "pod", "deploy-requester", "-o", "json"))
    launcher = json.loads(cluster.kubectl("get", "pod", pod["metadata"]["labels"]["dual-pods.llm-d.ai/dual"], "-o", "json"))
    assert pod["spec"]["serviceAccountName"] == "fma-requester"
    assert launcher["spec"]["serviceAccountName"] == "fma-launcher"
    assert launcher["spec"]["automountServiceAccountToken"] is False, "the launcher needs no API access"
    assert launcher["spec"]["containers"][0]["args"][0] == "supervise", "the launcher runs under fma-launcher supervise"


def probe(cluster: Cluster, token: str, group: str, resource: str, verb: str) -> tuple[int, dict]:
    """One request for `verb` on `resource` (or `resource/sub`) that changes nothing: an object
    that does not exist, writes as dry runs. Authorization comes first, so a permitted request is
    answered by what follows it (404, 422, 201 …) and a refused one by 403."""
    plural, _, sub = resource.partition("/")
    version = {"": "v1", "coordination.k8s.io": "v1", "fma.llm-d.ai": "v1alpha1"}[group]
    base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
    collection = f"{base}/{plural}" if plural == "nodes" else f"{base}/namespaces/{NS}/{plural}"
    item = f"{collection}/rbac-probe" + (f"/{sub}" if sub else "")
    body = {"metadata": {"name": "rbac-probe"}}
    return {
        "get": lambda: cluster.request("GET", item, token),
        "list": lambda: cluster.request("GET", collection, token),
        "watch": lambda: cluster.request("GET", collection + "?watch=true&timeoutSeconds=1", token),
        "create": lambda: cluster.request("POST", collection + "?dryRun=All", token, body),
        "update": lambda: cluster.request("PUT", item + "?dryRun=All", token, body),
        "patch": lambda: cluster.request("PATCH", item + "?dryRun=All", token, {}, "application/merge-patch+json"),
        "delete": lambda: cluster.request("DELETE", item + "?dryRun=All", token),
    }[verb]()


def test_every_permission_taken_out_of_the_controllers_roles_is_a_403(cluster: Cluster) -> None:
    token = cluster.kubectl("create", "token", "fma-controller").strip()
    documents = [doc for doc in yaml.safe_load_all((ROOT / "deploy/base/rbac/controller.yaml").read_text())
                 if doc and doc["kind"] in ("Role", "ClusterRole")]
    checked = 0
    for role in documents:
        for index, rule in enumerate(role["rules"]):
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        status, _ = probe(cluster, token, group, resource, verb)
                        assert status != 403, f"{role['kind']} {role['metadata']['name']} allows {verb} {resource} but got 403"
                        reduced = copy.deepcopy(role)
                        reduced["metadata"].setdefault("namespace", NS) if role["kind"] == "Role" else None
                        others = [v for v in rule["verbs"] if v != verb]
                        reduced["rules"][index]["verbs"] = others or ["deletecollection-never-used"]
                        cluster.kubectl("apply", "-f", "-", input=json.dumps(reduced))
                        status, answer = probe(cluster, token, group, resource, verb)
                        assert status == 403, f"{verb} {resource} without that verb in {role['metadata']['name']}: {status} {answer}"
                        scope = "at the cluster scope" if resource == "nodes" else f'in the namespace "{NS}"'
                        assert answer["reason"] == "Forbidden" and answer["message"].endswith(
                            f'User "system:serviceaccount:{NS}:fma-controller" cannot {verb} resource "{resource}" in API group "{group}" {scope}')
                        checked += 1
        cluster.kubectl("apply", "-f", "-", input=json.dumps(role))
    assert checked >= 20
