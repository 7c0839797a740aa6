"""The built-in kinds' fields in Sources/FMAKubeModel/KubeFields+BuiltIn.swift are what
scripts/gen-kube-fields.py makes from the installed Kubernetes Python client, when that client
is the version the file was generated from (another version may know other fields)."""
import re
import subprocess
import sys
from pathlib import Path

import kubernetes
import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "Sources/FMAKubeModel/KubeFields+BuiltIn.swift"


def test_generated_fields_match_the_client_they_came_from():
    header = GENERATED.read_text().splitlines()[0]
    version = re.search(r"Python client (\S+)'s models", header)
    assert version, f"no client version in the header: {header}"
    if version.group(1) != kubernetes.__version__:
        pytest.skip(f"installed kubernetes client {kubernetes.__version__}, the file is from {version.group(1)}")
    result = subprocess.run([sys.executable, str(ROOT / "scripts/gen-kube-fields.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_pod_field_of_the_client_is_declared():
    text = GENERATED.read_text()
    block = re.search(r"static let podSpecFields: KubeFields = \.object\(\[(.*?)\]\)", text, re.S).group(1)
    declared = set(re.findall(r'"(\w+)":', block))
    # Fields every Kubernetes since 1.29 has, whichever client generated the file.
    for field in ["containers", "initContainers", "volumes", "nodeSelector", "tolerations", "affinity",
                  "topologySpreadConstraints", "schedulingGates", "resourceClaims", "hostUsers", "os"]:
        assert field in declared, field
