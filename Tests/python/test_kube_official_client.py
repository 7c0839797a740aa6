"""fma-devcluster checked by the official Kubernetes Python client (PyPI ``kubernetes``).

A controller-like sequence against a real fma-devcluster (one simulated node): read Nodes
into the client's models, list then watch from the list's resourceVersion with bookmarks, each
patch type with the client's default content type (a dict body is a strategic merge patch, a
list body a JSON patch, custom objects a merge patch), the status subresource, 409 on a stale
write, finalizers and custom objects. Every wait is bounded; the cluster is stopped by pid.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

if not os.environ.get("FMA_BIN_DIR"):  # under `make test` (which sets it) a missing client is a failure
    pytest.importorskip("kubernetes", reason="the official client is installed by scripts/setup.sh")
from kubernetes import client as k8s  # noqa: E402
from kubernetes import config as k8s_config  # noqa: E402
from kubernetes import watch as k8s_watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from conftest import project_binary, stop_process_group  # noqa: E402

NS = "default"
READY_TIMEOUT = 60.0
FMA_GROUP, FMA_VERSION = "fma.llm-d.ai", "v1alpha1"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[k8s.ApiClient]:
    state = tmp_path_factory.mktemp("devcluster")
    ready = state / "ready"
    log = open(state / "log", "wb")
    process = subprocess.Popen(
        [str(project_binary("fma-devcluster")), "serve", "--state-dir", str(state / "cluster"), "--ready-file", str(ready),
         "--nodes", "1", "--gpus-per-node", "1", "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not ready.exists():
            assert process.poll() is None, f"fma-devcluster exited: {(state / 'log').read_text()}"
            assert time.monotonic() < deadline, "fma-devcluster wrote no ready file in time"
            time.sleep(0.05)
        lines = ready.read_text().splitlines()
        kubeconfig = next(line for line in lines if line.endswith("kubeconfig"))
        configuration = k8s.Configuration()
        k8s_config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
        with k8s.ApiClient(configuration) as api_client:
            yield api_client
    finally:
        stop_process_group(process)
        log.close()


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_nodes_read_into_the_clients_models(api: k8s.ApiClient) -> None:
    nodes = k8s.CoreV1Api(api).list_node().items
    assert len(nodes) == 1
    info = nodes[0].status.node_info
    assert info.boot_id and info.machine_id and info.kernel_version and info.os_image
    assert nodes[0].status.capacity["nvidia.com/gpu"] == "1"


def test_list_then_watch_from_the_lists_version(api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api)
    listed = core.list_namespaced_config_map(NS)
    names = [name("watched") for _ in range(5)]
    for each in names:
        core.create_namespaced_config_map(NS, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=each), data={"k": "v"}))
    seen: list[str] = []
    stream = k8s_watch.Watch().stream(core.list_namespaced_config_map, NS, resource_version=listed.metadata.resource_version,
                                      allow_watch_bookmarks=True, timeout_seconds=10)
    for event in stream:
        if event["type"] == "ADDED" and event["object"].metadata.name in names:
            seen.append(event["object"].metadata.name)
        if len(seen) == len(names):
            break
    assert seen == names


def test_default_patch_types(api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api)
    pod = name("patched")
    core.create_namespaced_pod(NS, k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name=pod, labels={"a": "1"}),
        spec=k8s.V1PodSpec(node_selector={"no-such-label": "x"},
                           containers=[k8s.V1Container(name="main", image="registry.example/a:1", args=["--x"])])))
    # A dict body: strategic merge patch, the container merged by name.
    patched = core.patch_namespaced_pod(pod, NS, {"spec": {"containers": [{"name": "main", "image": "registry.example/a:2"}]}})
    assert [(c.name, c.image, c.args) for c in patched.spec.containers] == [("main", "registry.example/a:2", ["--x"])]
    patched = core.patch_namespaced_pod(pod, NS, {"metadata": {"labels": {"a": None, "b": "2"}}})
    assert patched.metadata.labels == {"b": "2"}
    # A list body: JSON patch.
    patched = core.patch_namespaced_pod(pod, NS, [{"op": "add", "path": "/metadata/annotations", "value": {"note": "x"}}])
    assert patched.metadata.annotations == {"note": "x"}
    # The status subresource: conditions merge by type.
    status = core.patch_namespaced_pod_status(pod, NS, {"status": {"conditions": [
        {"type": "example.com/Checked", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})
    types = {c.type: c.status for c in status.status.conditions}
    assert types["example.com/Checked"] == "True"
    assert "PodScheduled" in types, "the scheduler's condition is kept beside the patched one"
    core.delete_namespaced_pod(pod, NS, grace_period_seconds=0)


def test_stale_write_is_409_and_finalizers_hold_a_delete(api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api)
    cm = name("held")
    created = core.create_namespaced_config_map(NS, k8s.V1ConfigMap(
        metadata=k8s.V1ObjectMeta(name=cm, finalizers=["example.com/hold"]), data={"k": "1"}))
    core.patch_namespaced_config_map(cm, NS, {"data": {"k": "2"}})
    created.data = {"k": "3"}
    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_config_map(cm, NS, created)
    assert stale.value.status == 409
    core.delete_namespaced_config_map(cm, NS)
    held = core.read_namespaced_config_map(cm, NS)
    assert held.metadata.deletion_timestamp is not None and held.data == {"k": "2"}
    core.patch_namespaced_config_map(cm, NS, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/hold"]}})
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map(cm, NS)
    assert gone.value.status == 404


def test_custom_objects(api: k8s.ApiClient) -> None:
    custom = k8s.CustomObjectsApi(api)
    isc = name("isc")
    body = {"apiVersion": f"{FMA_GROUP}/{FMA_VERSION}", "kind": "InferenceServerConfig", "metadata": {"name": isc},
            "spec": {"launcherConfigName": "lc", "modelServerConfig": {"port": 8005, "options": "--model m"}}}
    custom.create_namespaced_custom_object(FMA_GROUP, FMA_VERSION, NS, "inferenceserverconfigs", body)
    patched = custom.patch_namespaced_custom_object(FMA_GROUP, FMA_VERSION, NS, "inferenceserverconfigs", isc,
                                                    {"spec": {"modelServerConfig": {"port": 8006}}})
    assert patched["spec"]["modelServerConfig"] == {"port": 8006, "options": "--model m"}
    listed = custom.list_namespaced_custom_object(FMA_GROUP, FMA_VERSION, NS, "inferenceserverconfigs")
    assert isc in [item["metadata"]["name"] for item in listed["items"]]
    with pytest.raises(ApiException) as invalid:
        custom.patch_namespaced_custom_object(FMA_GROUP, FMA_VERSION, NS, "inferenceserverconfigs", isc,
                                              {"spec": {"modelServerConfig": {"port": 0}}})
    assert invalid.value.status == 422 and "spec.modelServerConfig.port" in invalid.value.body
    custom.delete_namespaced_custom_object(FMA_GROUP, FMA_VERSION, NS, "inferenceserverconfigs", isc)


def test_events_v1_and_core_events_are_the_same_objects(api: k8s.ApiClient) -> None:
    import datetime

    events = k8s.EventsV1Api(api)
    event_name = name("ev")
    body = k8s.EventsV1Event(
        metadata=k8s.V1ObjectMeta(name=event_name),
        event_time=datetime.datetime.now(datetime.timezone.utc),
        reporting_controller="example.com/ctl", reporting_instance="ctl-1", action="Binding", reason="Bound",
        type="Normal", note="bound p1", regarding=k8s.V1ObjectReference(kind="Pod", name="p1", namespace=NS))
    created = events.create_namespaced_event(NS, body)
    assert created.note == "bound p1"
    core = k8s.CoreV1Api(api).read_namespaced_event(event_name, NS)
    assert core.message == "bound p1" and core.involved_object.name == "p1"
    assert core.reporting_component == "example.com/ctl"
    listed = events.list_namespaced_event(NS, field_selector="regarding.name=p1").items
    assert [e.metadata.name for e in listed] == [event_name]
    patched = events.patch_namespaced_event(event_name, NS, {"note": "bound p1 again"})
    assert patched.note == "bound p1 again"
    with pytest.raises(ApiException) as invalid:
        events.create_namespaced_event(NS, k8s.EventsV1Event(metadata=k8s.V1ObjectMeta(name=name("bad")),
                                                             event_time=datetime.datetime.now(datetime.timezone.utc)))
    assert invalid.value.status == 422 and "reportingController" in invalid.value.body
