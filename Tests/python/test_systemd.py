"""deploy/systemd: the units pass `systemd-analyze verify` with no diagnostic (their ExecStart
pointed at the built executables), name only flags the programs have, keep the launcher's
instances alive across its restarts (KillMode=process); and swap-model.sh, run against a real
fma-launcher with the fake vLLM, swaps which instance is awake."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "deploy" / "systemd"
UNITS = sorted(SYSTEMD.glob("*.service"))


def bin_dir() -> Path:
    return Path(os.environ.get("FMA_BIN_DIR", REPO / ".build" / "debug"))


def built() -> bool:
    if (bin_dir() / "fma-launcher").exists():
        return True
    if os.environ.get("FMA_BIN_DIR"):
        pytest.fail(f"{bin_dir()} has no fma-launcher")
    pytest.skip("the executables are not built")


def exec_start(unit: Path) -> list[str]:
    line = next(l for l in unit.read_text().splitlines() if l.startswith("ExecStart="))
    return shlex.split(line.split("=", 1)[1])


def test_the_units_are_the_launcher_and_the_gpu_inventory():
    assert [u.name for u in UNITS] == ["fma-gpu-inventory.service", "fma-launcher.service"]
    launcher = (SYSTEMD / "fma-launcher.service").read_text()
    assert re.search(r"^KillMode=process$", launcher, re.M), "instances must outlive a launcher restart"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (make setup installs systemd)")
def test_systemd_analyze_verify_finds_nothing(tmp_path):
    built()
    for unit in UNITS:
        text = unit.read_text().replace("/usr/local/bin/", f"{bin_dir()}/")
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *map(str, sorted(tmp_path.iterdir()))],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == "", result.stdout + result.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_exec_start_names_only_flags_the_program_has(unit):
    built()
    argv = exec_start(unit)
    program, subcommand = Path(argv[0]).name, argv[1]
    help_text = subprocess.run([str(bin_dir() / program), subcommand, "--help"], capture_output=True, text=True, timeout=30).stdout
    known = set(re.findall(r"(--[a-z][a-z0-9-]*)", help_text))
    flags = [w for w in argv[2:] if w.startswith("--")]
    assert flags and set(flags) <= known, set(flags) - known


def fmactl_json(*args: str) -> dict:
    out = subprocess.run([str(bin_dir() / "fmactl"), *args, "-o", "json"], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(out.stdout)


def test_swap_model_sleeps_the_others_and_wakes_or_creates_the_named_one():
    built()
    with tempfile.TemporaryDirectory(prefix="fma-swap-") as directory:
        socket, ready = f"{directory}/launcher.sock", Path(directory) / "ready"
        launcher = subprocess.Popen(
            [str(bin_dir() / "fma-launcher"), "serve", "--listen", f"unix:{socket}", "--state-dir", f"{directory}/state",
             "--python-path", str(REPO / "python"), "--entrypoint", "fma_fakevllm", "--preload", "fma_fakevllm.server",
             "--mock-gpus", "1", "--node-name", "box", "--ready-file", str(ready)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        try:
            deadline = time.monotonic() + 30
            while not ready.exists():
                assert time.monotonic() < deadline and launcher.poll() is None, "the launcher did not start"
                time.sleep(0.05)
            env = {**os.environ, "FMA_LAUNCHER": f"unix:{socket}", "FMACTL": str(bin_dir() / "fmactl"),
                   "FMA_GPUS": mock_uuid("box", 0)}

            def swap(*args: str) -> subprocess.CompletedProcess:
                return subprocess.run([str(SYSTEMD / "swap-model.sh"), *args], capture_output=True, text=True, env=env, timeout=120)

            def states() -> dict[str, str]:
                listed = fmactl_json("launcher", "list", f"unix:{socket}").get("instances", [])
                return {i["id"]: i.get("sleepState", "") for i in listed}

            ports = [free_port(), free_port()]
            assert swap("a", "--host", "127.0.0.1", "--port", str(ports[0]), "--model", "a").returncode == 0
            assert states() == {"a": "AWAKE"}
            assert swap("b", "--host", "127.0.0.1", "--port", str(ports[1]), "--model", "b").returncode == 0
            assert states() == {"a": "SLEEPING", "b": "AWAKE"}
            woken = swap("a")
            assert woken.returncode == 0 and "waking a" in woken.stdout, woken.stdout + woken.stderr
            assert states() == {"a": "AWAKE", "b": "SLEEPING"}
            # An unknown name without options changes nothing.
            unknown = swap("c")
            assert unknown.returncode == 64 and "give its vLLM options" in unknown.stderr
            assert states() == {"a": "AWAKE", "b": "SLEEPING"}
        finally:
            # Instances outlive their launcher by design (KillMode=process): end them first.
            if launcher.poll() is None:
                subprocess.run([str(bin_dir() / "fmactl"), "launcher", "delete", f"unix:{socket}", "--all"],
                               capture_output=True, timeout=60)
            launcher.terminate()
            try:
                launcher.wait(timeout=20)
            except subprocess.TimeoutExpired:
                launcher.kill()
                launcher.wait(timeout=5)


def free_port() -> int:
    import socket as sockets
    with sockets.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mock_uuid(node: str, index: int) -> str:
    """MockGPUs.uuid (Sources/FMAAPI/MockGPUs.swift), as its documentation derives it."""
    def fnv1a64(text: str) -> int:
        h = 0xcbf29ce484222325
        for byte in text.encode():
            h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
        return h

    def mix(x: int) -> int:
        mask = 0xFFFFFFFFFFFFFFFF
        x ^= x >> 30
        x = (x * 0xbf58476d1ce4e5b9) & mask
        x ^= x >> 27
        x = (x * 0x94d049bb133111eb) & mask
        x ^= x >> 31
        return x

    key = f"fma-mock-gpu:{node}:{index}"
    hexa = f"{mix(fnv1a64(key)):016x}{mix(fnv1a64(key + ':2')):016x}"
    return f"GPU-{hexa[0:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:32]}"
