"""The zygote's spare: a create is handed to a child forked ahead of time, which is isolated like
any instance; a spare dies with its zygote, an instance does not. Real processes over the real
control socket; every wait is bounded and every process is stopped by pid."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fma.v1 import launcher_pb2

PYTHON_DIR = Path(__file__).resolve().parents[2] / "python"
TIMEOUT = 20.0


class Zygote:
    def __init__(self, process: subprocess.Popen, sock: socket.socket) -> None:
        self.process = process
        self.sock = sock
        self.buffer = b""

    def send(self, command: launcher_pb2.ZygoteCommand) -> None:
        body = command.SerializeToString()
        self.sock.sendall(struct.pack(">I", len(body)) + body)

    def event(self) -> launcher_pb2.ZygoteEvent:
        self.sock.settimeout(TIMEOUT)
        while True:
            if len(self.buffer) >= 4:
                (length,) = struct.unpack(">I", self.buffer[:4])
                if len(self.buffer) >= 4 + length:
                    event = launcher_pb2.ZygoteEvent.FromString(self.buffer[4:4 + length])
                    self.buffer = self.buffer[4 + length:]
                    return event
            chunk = self.sock.recv(65536)
            assert chunk, "the zygote closed the control socket"
            self.buffer += chunk

    def forked(self, instance_id: str, log: Path, argv: list[str]) -> int:
        command = launcher_pb2.ZygoteCommand(fork=launcher_pb2.ZygoteFork(
            instance_id=instance_id, entrypoint="fma_fakevllm", argv=["fma_fakevllm", *argv], log_path=str(log)))
        self.send(command)
        while True:
            event = self.event()
            if event.WhichOneof("event") == "forked":
                assert event.forked.instance_id == instance_id
                return event.forked.pid


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def wait_until(what: str, condition) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.fixture()
def zygote(tmp_path: Path) -> Iterator[Zygote]:
    ours, theirs = socket.socketpair()
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    process = subprocess.Popen(
        [sys.executable, "-m", "fma_zygote", "--control-fd", str(theirs.fileno()), "--preload", "fma_fakevllm.server",
         "--entrypoint", "fma_fakevllm"],
        pass_fds=[theirs.fileno()], env=env, start_new_session=True)
    theirs.close()
    z = Zygote(process, ours)
    started: list[int] = []
    try:
        assert z.event().WhichOneof("event") == "ready"
        yield z
    finally:
        for pid in children(process.pid) if alive(process.pid) else set():
            started.append(pid)
        process.kill()
        process.wait(timeout=TIMEOUT)
        ours.close()
        for pid in started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_a_create_takes_the_spare_which_is_isolated_and_replaced(zygote: Zygote, tmp_path: Path) -> None:
    wait_until("a spare", lambda: len(children(zygote.process.pid)) == 1)
    (spare,) = children(zygote.process.pid)
    wait_until("the spare's own session", lambda: os.getsid(spare) == spare)
    log = tmp_path / "a.log"
    pid = zygote.forked("a", log, ["--port", "0"])
    try:
        assert pid == spare, "the create was handed to the spare"
        assert os.readlink(f"/proc/{pid}/fd/1") == str(log)
        wait_until("the instance's first line", lambda: "fma_fakevllm: serving" in log.read_text())
        wait_until("the next spare", lambda: len(children(zygote.process.pid) - {pid}) == 1)
    finally:
        os.kill(pid, signal.SIGKILL)


def test_a_spare_dies_with_the_zygote_and_an_instance_does_not(zygote: Zygote, tmp_path: Path) -> None:
    pid = zygote.forked("b", tmp_path / "b.log", ["--port", "0"])
    try:
        wait_until("the next spare", lambda: len(children(zygote.process.pid) - {pid}) == 1)
        (spare,) = children(zygote.process.pid) - {pid}
        zygote.process.kill()
        zygote.process.wait(timeout=TIMEOUT)
        wait_until("the spare to die with its zygote", lambda: not alive(spare))
        assert alive(pid), "the instance outlives its zygote"
    finally:
        os.kill(pid, signal.SIGKILL)


def test_without_a_spare_each_create_forks(tmp_path: Path) -> None:
    ours, theirs = socket.socketpair()
    process = subprocess.Popen(
        [sys.executable, "-m", "fma_zygote", "--control-fd", str(theirs.fileno()), "--no-spare"],
        pass_fds=[theirs.fileno()], env=dict(os.environ, PYTHONPATH=str(PYTHON_DIR)), start_new_session=True)
    theirs.close()
    z = Zygote(process, ours)
    pid = None
    try:
        assert z.event().WhichOneof("event") == "ready"
        log = tmp_path / "c.log"
        pid = z.forked("c", log, ["--port", "0"])
        # By the time the instance serves, a zygote with spares would have forked the next one.
        wait_until("the instance's first line", lambda: "fma_fakevllm: serving" in log.read_text())
        assert children(process.pid) == {pid}
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        process.kill()
        process.wait(timeout=TIMEOUT)
        ours.close()
