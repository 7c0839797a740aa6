"""deploy/: every overlay renders with kubectl's kustomize; every Kubernetes object it renders
passes Kubernetes' own schema strictly (kubernetes-validate: unknown fields are errors); the
custom resources (the LauncherConfig of deploy/, deploy/examples) pass the CRDs' schemas as a
strict API server would apply them; the admission policies' CEL, run by a real CEL
implementation (cel-python), denies changes to the binding metadata and allows the rest; and the
command lines of the Deployment, the DaemonSet and the LauncherConfig name only flags their
programs have (from each program's --help)."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
from pathlib import Path

import celpy
import jsonschema
import kubernetes_validate
import pytest
import yaml
from celpy import celtypes

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
OVERLAYS = sorted(p.name for p in (DEPLOY / "overlays").iterdir() if p.is_dir())
KUBERNETES_VERSION = "1.32.0"

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl (make setup installs it)")


def render(overlay: str) -> list[dict]:
    result = subprocess.run(["kubectl", "kustomize", str(DEPLOY / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {overlay: render(overlay) for overlay in OVERLAYS}


def objects(docs: list[dict], kind: str) -> list[dict]:
    return [doc for doc in docs if doc["kind"] == kind]


def test_the_overlays_are_devcluster_and_production_and_name_their_namespace(rendered):
    assert OVERLAYS == ["devcluster", "production"]
    for overlay, namespace in (("devcluster", "default"), ("production", "fma")):
        docs = rendered[overlay]
        kinds = {doc["kind"] for doc in docs}
        assert {"CustomResourceDefinition", "Deployment", "Role", "RoleBinding", "ClusterRole",
                "ClusterRoleBinding", "ServiceAccount", "LauncherConfig", "NetworkPolicy",
                "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} <= kinds
        # fma-devcluster runs the node inventory on every simulated node itself (--gpu-inventories).
        assert ("DaemonSet" in kinds) == (overlay == "production")
        for doc in docs:
            if doc["kind"] not in ("CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
                                   "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"):
                assert doc["metadata"].get("namespace") == namespace, (overlay, doc["kind"], doc["metadata"]["name"])
        for binding in objects(docs, "ClusterRoleBinding") + objects(docs, "RoleBinding"):
            assert all(s.get("namespace") == namespace for s in binding["subjects"]), binding
        for binding in objects(docs, "ValidatingAdmissionPolicyBinding"):
            assert binding["spec"]["matchResources"]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": namespace}
    assert "PodMonitor" in {doc["kind"] for doc in rendered["production"]}
    for overlay in ("devcluster", "production"):
        assert not objects(rendered[overlay], "Secret"), "an install makes its own token (fma-rpc-token) first"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_kubernetes_object_passes_kubernetes_schema_strictly(rendered, overlay):
    checked = 0
    for doc in rendered[overlay]:
        if doc["kind"] == "LauncherConfig":
            # Its pod template is a core/v1 PodSpec.
            pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "launcher"}, "spec": doc["spec"]["podTemplate"]["spec"]}
            kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)
            checked += 1
            continue
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            continue
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 18


def test_the_validator_is_strict():
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
                  "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
                           "spec": {"containers": [{"name": "c", "image": "i", "comand": ["typo"]}]}}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


# --- the CRDs' schemas --------------------------------------------------------------------------


def structural(schema: dict) -> dict:
    """A CRD's OpenAPI v3 schema as JSON Schema, as strict field validation applies it: an object
    with properties takes no other field unless x-kubernetes-preserve-unknown-fields says so."""
    out: dict = {}
    for key, value in schema.items():
        if key.startswith("x-kubernetes-") or key in ("format", "description"):
            continue
        if key == "properties":
            out[key] = {name: structural(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = structural(value)
        elif key == "anyOf":
            out[key] = [structural(sub) for sub in value]
        else:
            out[key] = value
    if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema \
            and not schema.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def list_map_problems(schema: dict, value, path: str = "") -> list[str]:
    """Duplicate keys in lists the CRD declares x-kubernetes-list-type: map."""
    problems = []
    if isinstance(value, dict) and "properties" in schema:
        for name, sub in schema["properties"].items():
            if name in value:
                problems += list_map_problems(sub, value[name], f"{path}.{name}")
    if isinstance(value, list) and "items" in schema:
        if schema.get("x-kubernetes-list-type") == "map":
            keys = [tuple(item.get(k) for k in schema["x-kubernetes-list-map-keys"]) for item in value]
            duplicates = sorted({k for k in keys if keys.count(k) > 1})
            if duplicates:
                problems.append(f"{path}: duplicate entries for key {duplicates}")
        for item in value:
            problems += list_map_problems(schema["items"], item, path + "[]")
    return problems


@pytest.fixture(scope="module")
def crd_schemas(rendered) -> dict[str, dict]:
    schemas = {}
    for crd in objects(rendered["production"], "CustomResourceDefinition"):
        version = crd["spec"]["versions"][0]
        schemas[crd["spec"]["names"]["kind"]] = version["schema"]["openAPIV3Schema"]
    assert set(schemas) == {"InferenceServerConfig", "LauncherConfig", "LauncherPopulationPolicy"}
    return schemas


def crd_errors(schemas: dict, resource: dict) -> list[str]:
    schema = schemas[resource["kind"]]
    validator = jsonschema.Draft7Validator(structural(schema))
    errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(resource)]
    return errors + list_map_problems(schema, resource)


def test_the_custom_resources_of_deploy_and_its_examples_pass_the_crds(rendered, crd_schemas):
    resources = objects(rendered["production"], "LauncherConfig") + objects(rendered["devcluster"], "LauncherConfig")
    for path in sorted((DEPLOY / "examples").glob("*.yaml")):
        resources += [doc for doc in yaml.safe_load_all(path.read_text()) if doc and doc["kind"] in crd_schemas]
    assert {r["kind"] for r in resources} == set(crd_schemas)
    for resource in resources:
        assert crd_errors(crd_schemas, resource) == [], resource["metadata"]["name"]


def test_the_crds_reject_what_the_api_server_would(crd_schemas):
    isc = {"apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "InferenceServerConfig", "metadata": {"name": "i"},
           "spec": {"launcherConfigName": "lc", "modelServerConfig": {"port": 8000, "options": "--model m"}}}
    assert crd_errors(crd_schemas, isc) == []
    unknown = copy.deepcopy(isc)
    unknown["spec"]["modelServerConfig"]["prot"] = 8000
    assert any("prot" in e for e in crd_errors(crd_schemas, unknown))
    bad_port = copy.deepcopy(isc)
    bad_port["spec"]["modelServerConfig"]["port"] = 70000
    assert crd_errors(crd_schemas, bad_port)
    no_config = copy.deepcopy(isc)
    del no_config["spec"]["launcherConfigName"]
    assert crd_errors(crd_schemas, no_config)
    lpp = {"apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "LauncherPopulationPolicy", "metadata": {"name": "p"},
           "spec": {"enhancedNodeSelector": {"labelSelector": {}, "allocatableResources": {"nvidia.com/gpu": {"min": 1, "max": "8"}}},
                    "countForLauncher": [{"launcherConfigName": "a", "launcherCount": 1}, {"launcherConfigName": "b", "launcherCount": 2}]}}
    assert crd_errors(crd_schemas, lpp) == []
    duplicate = copy.deepcopy(lpp)
    duplicate["spec"]["countForLauncher"][1]["launcherConfigName"] = "a"
    assert any("duplicate" in e for e in crd_errors(crd_schemas, duplicate))
    bad_operator = copy.deepcopy(lpp)
    bad_operator["spec"]["enhancedNodeSelector"]["labelSelector"] = {"matchExpressions": [{"key": "k", "operator": "Near"}]}
    assert crd_errors(crd_schemas, bad_operator)
    lc = {"apiVersion": "fma.llm-d.ai/v1alpha1", "kind": "LauncherConfig", "metadata": {"name": "l"},
          "spec": {"maxInstances": 0, "podTemplate": {"spec": {"containers": [{"name": "inference-server", "image": "i"}]}}}}
    assert crd_errors(crd_schemas, lc), "maxInstances is at least 1"


# --- the admission policies' CEL ---------------------------------------------------------------


CEL = celpy.Environment()


def cel(expression: str, activation: dict):
    return CEL.program(CEL.compile(expression)).evaluate(activation)


def admit(policy: dict, old: dict, new: dict, user: str) -> str | None:
    """What the policy says to an UPDATE of a Pod from `old` to `new` by `user`: None when
    allowed (or not matched), else its message."""
    activation = {"object": celpy.json_to_cel(new), "oldObject": celpy.json_to_cel(old),
                  "request": celpy.json_to_cel({"operation": "UPDATE", "userInfo": {"username": user}})}
    for condition in policy["spec"].get("matchConditions", []):
        if not cel(condition["expression"], activation):
            return None
    variables: dict = {}
    for variable in policy["spec"].get("variables", []):
        activation["variables"] = celtypes.MapType({celtypes.StringType(k): v for k, v in variables.items()})
        variables[variable["name"]] = cel(variable["expression"], activation)
    activation["variables"] = celtypes.MapType({celtypes.StringType(k): v for k, v in variables.items()})
    for validation in policy["spec"]["validations"]:
        if not cel(validation["expression"], activation):
            return validation["message"]
    return None


@pytest.fixture(scope="module")
def policies(rendered) -> dict[str, dict]:
    found = {p["metadata"]["name"]: p for p in objects(rendered["production"], "ValidatingAdmissionPolicy")}
    assert set(found) == {"fma-immutable-fields", "fma-bound-serverreqpod"}
    bindings = {b["spec"]["policyName"] for b in objects(rendered["production"], "ValidatingAdmissionPolicyBinding")}
    assert bindings == set(found)
    return found


def pod(labels: dict | None = None, annotations: dict | None = None) -> dict:
    metadata: dict = {"name": "p", "namespace": "fma"}
    if labels is not None:
        metadata["labels"] = labels
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata}


USER = "alice"
CONTROLLER = "system:serviceaccount:fma:fma-controller"
BOUND_LAUNCHER = pod({"dual-pods.llm-d.ai/dual": "r1", "dual-pods.llm-d.ai/launcher-config-name": "lc", "app": "x"},
                     {"dual-pods.llm-d.ai/requester": "uid-1 r1", "dual-pods.llm-d.ai/instance-id": "i1"})
BOUND_REQUESTER = pod({"dual-pods.llm-d.ai/dual": "launcher-1", "app": "x"},
                      {"dual-pods.llm-d.ai/inference-server-config": "isc", "dual-pods.llm-d.ai/status": '{"Errors":null}'})


def changed(base: dict, path: tuple[str, str], value: str | None) -> dict:
    result = copy.deepcopy(base)
    section = result["metadata"].setdefault(path[0], {})
    if value is None:
        section.pop(path[1], None)
    else:
        section[path[1]] = value
    return result


@pytest.mark.parametrize("field", [("labels", "dual-pods.llm-d.ai/dual"), ("labels", "dual-pods.llm-d.ai/launcher-config-name"),
                                   ("annotations", "dual-pods.llm-d.ai/requester"), ("annotations", "dual-pods.llm-d.ai/instance-id"),
                                   ("annotations", "dual-pods.llm-d.ai/status"), ("annotations", "dual-pods.llm-d.ai/server-port"),
                                   ("annotations", "dual-pods.llm-d.ai/vllm-config"), ("annotations", "dual-pods.llm-d.ai/isc-routing-metadata")])
def test_a_user_may_not_change_or_remove_binding_metadata_the_controller_may(policies, field):
    policy = policies["fma-immutable-fields"]
    for value in ("other", None, ""):
        new = changed(BOUND_LAUNCHER, field, value)
        if new == BOUND_LAUNCHER or (value == "" and BOUND_LAUNCHER["metadata"].get(field[0], {}).get(field[1]) is None):
            continue
        assert admit(policy, BOUND_LAUNCHER, new, USER) is not None, (field, value)
        assert admit(policy, BOUND_LAUNCHER, new, CONTROLLER) is None, (field, value)
    # Adding it where it was absent is a change too.
    assert admit(policy, pod({}, {}), changed(pod({}, {}), field, "x"), USER) is not None


def test_unrelated_changes_and_unbound_pods_are_allowed(policies):
    immutable, bound = policies["fma-immutable-fields"], policies["fma-bound-serverreqpod"]
    relabelled = changed(BOUND_LAUNCHER, ("labels", "app"), "y")
    assert admit(immutable, BOUND_LAUNCHER, relabelled, USER) is None
    assert admit(bound, BOUND_LAUNCHER, relabelled, USER) is None
    plain = pod()
    assert admit(immutable, plain, changed(plain, ("labels", "team"), "a"), USER) is None
    # An unbound requester may change its config.
    unbound = pod({"app": "x"}, {"dual-pods.llm-d.ai/inference-server-config": "isc"})
    assert admit(bound, unbound, changed(unbound, ("annotations", "dual-pods.llm-d.ai/inference-server-config"), "other"), USER) is None
    # A direct requester's server-patch is not protected.
    direct = pod({"dual-pods.llm-d.ai/dual": "prov"}, {"dual-pods.llm-d.ai/server-patch": "{}"})
    assert admit(bound, direct, changed(direct, ("annotations", "dual-pods.llm-d.ai/server-patch"), "{ }"), USER) is None


def test_a_bound_requester_keeps_its_config_and_dual_label(policies):
    bound = policies["fma-bound-serverreqpod"]
    for field in (("annotations", "dual-pods.llm-d.ai/inference-server-config"), ("labels", "dual-pods.llm-d.ai/dual")):
        for value in ("other", None):
            new = changed(BOUND_REQUESTER, field, value)
            assert admit(bound, BOUND_REQUESTER, new, USER) is not None, (field, value)
            assert admit(bound, BOUND_REQUESTER, new, CONTROLLER) is None
    assert admit(bound, BOUND_REQUESTER, changed(BOUND_REQUESTER, ("labels", "app"), "y"), USER) is None


# --- command lines -----------------------------------------------------------------------------


def bin_dir() -> Path:
    return Path(os.environ.get("FMA_BIN_DIR", REPO / ".build" / "debug"))


def flags_of(program: str, subcommand: str | None) -> set[str]:
    argv = [str(bin_dir() / program)] + ([subcommand] if subcommand else []) + ["--help"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", result.stdout))


def command_lines(docs: list[dict]) -> list[tuple[str, list[str]]]:
    lines = []
    for doc in docs:
        if doc["kind"] in ("Deployment", "DaemonSet"):
            spec = doc["spec"]["template"]["spec"]
        elif doc["kind"] == "LauncherConfig":
            spec = doc["spec"]["podTemplate"]["spec"]
        else:
            continue
        for container in spec["containers"]:
            lines.append((doc["metadata"]["name"], container.get("command", []) + container.get("args", [])))
    return lines


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_command_lines_name_only_flags_the_programs_have(rendered, overlay):
    if not (bin_dir() / "fma-controller").exists():
        if os.environ.get("FMA_BIN_DIR"):
            pytest.fail(f"{bin_dir()}/fma-controller is missing")
        pytest.skip("the executables are not built")
    checked = 0
    for name, argv in command_lines(rendered[overlay]):
        program = Path(argv[0]).name
        words = argv[1:]
        # fma-launcher supervise [flags] -- serve [flags]
        segments = [words]
        if "--" in words:
            cut = words.index("--")
            segments = [words[:cut], words[cut + 1:]]
        for segment in segments:
            subcommand = segment[0] if segment and not segment[0].startswith("-") else None
            known = flags_of(program, subcommand)
            for word in segment:
                if word.startswith("--"):
                    flag = word.split("=", 1)[0]
                    assert flag in known, f"{name}: {program} {subcommand or ''} has no {flag}"
                    checked += 1
    assert checked >= 12
