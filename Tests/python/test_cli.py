"""The command line, ``python3 -m fma``: output and exit codes, against the real fma-demo server
and (for the answers it never gives) a fake one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from fma.v1 import frame_pb2, health_pb2

if TYPE_CHECKING:
    from conftest import DemoServer, FakeConnection

PYTHON_DIR = Path(__file__).resolve().parents[2] / "python"
HEALTH_LINE = re.compile(
    r"SERVING component=fma-demo version=\S+ uptime_ms=\d+ services=(\S+)\n")


def fma(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs ``python3 -m fma ARGS`` (at most 60 s)."""
    environment = {key: value for key, value in os.environ.items() if key != "FMA_TOKEN"}
    environment["PYTHONPATH"] = str(PYTHON_DIR)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "fma", *args], capture_output=True, text=True,
                          env=environment, timeout=60)


def test_help_teaches() -> None:
    result = fma("--help")
    assert result.returncode == 0
    for word in ("health", "echo", "count", "unix:", "tcp://", "FMA_TOKEN", "exit status"):
        assert word in result.stdout
    health = fma("health", "--help")
    assert health.returncode == 0 and "--token-file" in health.stdout


def test_usage_errors_exit_2() -> None:
    assert fma().returncode == 2
    bad = fma("health", "not-an-address")
    assert bad.returncode == 2 and "invalid address" in bad.stderr


def test_health_over_unix(demo_server: DemoServer) -> None:
    result = fma("health", demo_server.unix)
    assert result.returncode == 0, result.stderr
    match = HEALTH_LINE.fullmatch(result.stdout)
    assert match, result.stdout
    assert {"fma.v1.Demo", "fma.v1.Health"} <= set(match.group(1).split(","))


def test_health_over_tcp_with_each_token_source(demo_server: DemoServer) -> None:
    by_file = fma("health", demo_server.tcp, "--token-file", str(demo_server.token_file))
    assert by_file.returncode == 0, by_file.stderr
    assert HEALTH_LINE.fullmatch(by_file.stdout)
    by_flag = fma("health", demo_server.tcp, "--token", demo_server.token, "--timeout", "10")
    assert by_flag.returncode == 0, by_flag.stderr
    by_env = fma("health", demo_server.tcp, env={"FMA_TOKEN": demo_server.token})
    assert by_env.returncode == 0, by_env.stderr


def test_health_of_a_service(demo_server: DemoServer) -> None:
    assert fma("health", demo_server.unix, "--service", "fma.v1.Demo").returncode == 0
    missing = fma("health", demo_server.unix, "--service", "fma.v1.Nope")
    assert missing.returncode == 2
    assert missing.stderr.startswith("fma: NOT_FOUND: ")


def test_wrong_or_missing_token_exits_2(demo_server: DemoServer) -> None:
    wrong = fma("health", demo_server.tcp, "--token", "wrong")
    assert wrong.returncode == 2
    assert wrong.stdout == ""
    assert wrong.stderr == "fma: UNAUTHENTICATED: invalid bearer token\n"
    missing = fma("health", demo_server.tcp)
    assert missing.returncode == 2
    assert missing.stderr == "fma: UNAUTHENTICATED: missing bearer token\n"


def test_unreachable_server_exits_2(short_tmp: Path) -> None:
    address = f"unix:{short_tmp}/absent.sock"
    result = fma("health", address)
    assert result.returncode == 2
    assert result.stderr.startswith("fma: UNAVAILABLE: ") and address in result.stderr


def test_not_serving_exits_1(fake_server) -> None:
    def handler(conn: FakeConnection) -> None:
        request = conn.recv_frame()
        health = health_pb2.HealthCheckResponse(
            status=health_pb2.HealthCheckResponse.DRAINING, component="fake", version="1",
            uptime_ms=7, services=["fma.v1.Health"])
        conn.send(frame_pb2.Frame(call_id=request.call_id, response=frame_pb2.CallResponse(
            payload=health.SerializeToString())))
        conn.send(frame_pb2.Frame(call_id=request.call_id, status=frame_pb2.CallStatus()))
        conn.recv_frame()

    result = fma("health", fake_server(handler).address)
    assert result.returncode == 1
    assert result.stdout == "DRAINING component=fake version=1 uptime_ms=7 services=fma.v1.Health\n"


def test_echo(demo_server: DemoServer) -> None:
    result = fma("echo", demo_server.tcp, "hello, wörld", "--token-file",
                 str(demo_server.token_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello, wörld\n"


def test_count(demo_server: DemoServer) -> None:
    result = fma("count", demo_server.unix, "7")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(index) for index in range(7)]
    credited = fma("count", demo_server.unix, "25", "--credit", "4", "--timeout", "30")
    assert credited.returncode == 0, credited.stderr
    assert credited.stdout.split() == [str(index) for index in range(25)]
