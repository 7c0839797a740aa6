"""The commands the README and docs/quickstart.md tell a user to try after ``make run`` run,
each to success, against what ``scripts/run.sh`` (``make run`` after set-up and build) starts:
fma-devcluster with deploy/overlays/devcluster installed and the examples applied. Every block
of shell commands in those files made only of kubectl and fmactl commands for the one-machine
default (no ``-n fma``: those are the real-cluster steps) is run line by line, in order, with
``/tmp/fma-run`` replaced by this test's directory. Every wait is bounded; run.sh is stopped by
its process group (its trap stops the cluster and every pod's process).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import project_binary, stop_process_group

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "docs/quickstart.md"]
START_TIMEOUT = 240.0


def snippets() -> list[tuple[str, str]]:
    """(where, command line) of every line of the blocks described above."""
    found = []
    for path in DOCS:
        for number, block in enumerate(re.findall(r"```sh\n(.*?)```", path.read_text(), re.S)):
            lines = [line.split("  #")[0].strip() for line in block.splitlines()]
            lines = [line for line in lines if line and line != "make run"]
            commands = ("kubectl ", "export KUBECONFIG=/tmp/fma-run/", ".build/debug/fmactl dual ")
            if lines and all(line.startswith(commands) for line in lines) and not any(" -n fma" in line for line in lines):
                found += [(f"{path.name} block {number + 1}", line) for line in lines if not line.startswith("export ")]
    return found


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("fma-run")
    log = open(directory / "run.log", "w")
    bin_dir = project_binary("fma-devcluster").parent
    process = subprocess.Popen([str(ROOT / "scripts/run.sh")], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "FMA_RUN_DIR": str(directory), "FMA_BIN_DIR": str(bin_dir)},
                               start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "Use it from another terminal" not in (directory / "run.log").read_text():
            assert process.poll() is None, f"run.sh exited {process.returncode}:\n{(directory / 'run.log').read_text()[-4000:]}"
            assert time.monotonic() < deadline, f"run.sh not serving within {START_TIMEOUT:.0f} s:\n{(directory / 'run.log').read_text()[-4000:]}"
            time.sleep(0.2)
        yield directory
    finally:
        stop_process_group(process, timeout=60)
        log.close()


def test_the_docs_have_commands_to_try() -> None:
    lines = [line for _, line in snippets()]
    assert any("fmactl dual list" in line for line in lines)
    assert any("scale rs fake-model-servers" in line for line in lines)
    assert any("direct-requesters.yaml" in line for line in lines)


def test_every_command_the_docs_give_for_make_run_succeeds(run_dir: Path) -> None:
    environment = {**os.environ, "KUBECONFIG": str(run_dir / "cluster/kubeconfig")}
    for where, line in snippets():
        command = line.replace("/tmp/fma-run/", f"{run_dir}/")
        result = subprocess.run(["bash", "-c", command], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{where}: {line}\n{result.stdout}\n{result.stderr}"
        if "fmactl dual list" in line:
            assert "REQUESTER" in result.stdout and "fake-model-servers" in result.stdout, result.stdout


def test_every_command_make_run_prints_to_try_succeeds(run_dir: Path) -> None:
    printed = (run_dir / "run.log").read_text().split("Use it from another terminal:", 1)[1]
    lines = [line.split("  #")[0].strip() for line in printed.splitlines()]
    commands = [line for line in lines if line.startswith("kubectl ") or re.match(r"\S*/fmactl ", line)]
    assert len(commands) >= 10, printed
    environment = {**os.environ, "KUBECONFIG": str(run_dir / "cluster/kubeconfig")}
    for line in commands:
        result = subprocess.run(["bash", "-c", line], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
