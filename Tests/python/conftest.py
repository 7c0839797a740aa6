"""Shared fixtures of the Python tests.

- ``demo_server``: the real ``fma-demo`` binary, started in a temporary folder with a Unix and a
  TCP listener and a token, and stopped (by pid) when the test ends. The binary is
  ``$FMA_BIN_DIR/fma-demo`` (``make test-python`` sets FMA_BIN_DIR), else
  ``.build/debug/fma-demo``. When FMA_BIN_DIR is unset and the binary is not built, tests that
  need it are skipped; when FMA_BIN_DIR is set, a missing binary is a failure.
- ``fake_server``: starts scripted stand-ins for a server, on Unix sockets, to test the client's
  side of the protocol (including server behaviour the real server never shows).
- ``raw_connect``: plain frame-level connections, to test a server with hand-made frames.

Every wait here is bounded in time.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHON_DIR = REPO / "python"
if str(PYTHON_DIR) not in sys.path:  # so that `pytest Tests/python` works without PYTHONPATH
    sys.path.insert(0, str(PYTHON_DIR))

from fma.client import FrameReader, encode_frame, parse_address  # noqa: E402
from fma.v1 import frame_pb2  # noqa: E402

#: How long a server may take to write its ready file.
READY_TIMEOUT = 20.0
#: How long a server may take to exit after SIGTERM before it is killed.
STOP_TIMEOUT = 10.0


# --------------------------------------------------------------------------------------------
# Temporary folders
# --------------------------------------------------------------------------------------------


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A fresh temporary folder with a short path (a Unix socket path has at most 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="fma-py-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# The real demo server
# --------------------------------------------------------------------------------------------


def project_binary(name: str) -> Path:
    """One of the project's executables ($FMA_BIN_DIR, else .build/debug); skips (or fails,
    under FMA_BIN_DIR) if it is not built."""
    bin_dir = os.environ.get("FMA_BIN_DIR")
    path = Path(bin_dir or REPO / ".build" / "debug") / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        if bin_dir:
            pytest.fail(f"{path} does not exist although FMA_BIN_DIR is set; build it first")
        pytest.skip(f"{path} is not built (run `swift build`, or `make test-python`)")
    return path


def stop_process_group(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGTERM to the process group a test started (``start_new_session=True``), a bounded
    wait, then SIGKILL to the group if it is still there."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def demo_binary() -> Path:
    """The fma-demo binary to test."""
    return project_binary("fma-demo")


@dataclasses.dataclass
class DemoServer:
    """A running fma-demo process and how to reach it."""

    process: subprocess.Popen[bytes]
    folder: Path
    unix: str          # e.g. "unix:/tmp/fma-py-xyz/demo.sock", as the ready file says
    tcp: str           # e.g. "tcp://127.0.0.1:41234", as the ready file says
    socket_path: Path  # the Unix socket file
    token: str
    token_file: Path
    log_path: Path
    metrics: str = ""  # e.g. "http://127.0.0.1:41235/metrics" with --metrics-listen

    def log(self) -> str:
        """What the server wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int | None:
        """Signals the server (by pid), waits up to ``timeout`` s; kills it if it is still
        running then. Returns the exit status if it exited on its own, else None."""
        if self.process.poll() is not None:
            return self.process.returncode
        try:
            os.kill(self.process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)
            return None


def start_demo_server(folder: Path, token: str = "py-test-token-5e1f",
                      extra_args: list[str] | None = None) -> DemoServer:
    """Starts fma-demo with a Unix and a TCP (port 0) listener (and ``extra_args``); returns
    once its ready file names the bound addresses (at most READY_TIMEOUT seconds)."""
    binary = demo_binary()
    socket_path = folder / "demo.sock"
    token_file = folder / "token"
    token_file.write_text(token + "\n")
    ready_file = folder / "ready"
    log_path = folder / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(binary), "--listen", f"unix:{socket_path}", "--listen", "tcp://127.0.0.1:0",
             "--token-file", str(token_file), "--ready-file", str(ready_file), *(extra_args or [])],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    server = DemoServer(process=process, folder=folder, unix="", tcp="",
                        socket_path=socket_path, token=token, token_file=token_file,
                        log_path=log_path)
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready_file.exists():
        if process.poll() is not None:
            pytest.fail(f"fma-demo exited with status {process.returncode} before it was "
                        f"ready; its output:\n{server.log()}")
        if time.monotonic() > deadline:
            server.stop(signal.SIGKILL)
            pytest.fail(f"fma-demo wrote no ready file in {READY_TIMEOUT:g} s; its output:\n"
                        f"{server.log()}")
        time.sleep(0.05)
    lines = ready_file.read_text().split()
    addresses = lines[:2]
    urls = lines[2:]
    if len(addresses) != 2 or any(not url.endswith("/metrics") for url in urls):
        server.stop()
        pytest.fail(f"the ready file should name 2 addresses (one per --listen), then the "
                    f"metrics URL if asked for, not {lines!r}")
    server.unix, server.tcp = addresses
    server.metrics = urls[0] if urls else ""
    return server


@pytest.fixture
def demo_server(short_tmp: Path) -> Iterator[DemoServer]:
    """A running fma-demo; stopped (SIGTERM, then SIGKILL) when the test ends."""
    server = start_demo_server(short_tmp)
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------
# Scripted fake servers
# --------------------------------------------------------------------------------------------


class FrameSocket:
    """A socket that speaks frames, with bounded waits: the server's end of a fake server's
    connection, or a raw client connection to a real server (``raw_connect``)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.reader = FrameReader()

    def recv_frame(self, timeout: float = 10.0) -> frame_pb2.Frame | None:
        """The next frame from the peer; None when the peer closed the connection.

        Raises:
            TimeoutError: no frame came within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while (frame := self.reader.next_frame()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no frame from the peer within {timeout:g} s")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return None
            if not data:
                return None
            self.reader.feed(data)
        return frame

    def send(self, frame: frame_pb2.Frame) -> None:
        self.sock.sendall(encode_frame(frame))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


#: A fake server's handlers get the server's end of each connection.
FakeConnection = FrameSocket


Handler = Callable[[FakeConnection], None]


class FakeServer:
    """Listens on a Unix socket and runs ``handler`` on each accepted connection, in a thread.

    The handler's exceptions are collected in ``errors`` (the fixture fails the test on them).
    """

    def __init__(self, path: Path, handler: Handler):
        self.address = f"unix:{path}"
        self.handler = handler
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connections: list[FakeConnection] = []
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen()
        self._listener.settimeout(0.1)
        self._accepter = threading.Thread(target=self._accept_loop, daemon=True,
                                          name="fake-server accept")
        self._accepter.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            connection = FakeConnection(sock)
            self._connections.append(connection)
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True,
                                      name="fake-server connection")
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: FakeConnection) -> None:
        try:
            self.handler(connection)
        except BaseException as error:  # reported by the fixture
            self.errors.append(error)
        finally:
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._accepter.join(5)
        self._listener.close()
        for connection in self._connections:
            connection.close()
        for thread in self._threads:
            thread.join(5)


@pytest.fixture
def fake_server(short_tmp: Path) -> Iterator[Callable[[Handler], FakeServer]]:
    """A factory: ``fake_server(handler)`` starts a FakeServer; all stop when the test ends."""
    servers: list[FakeServer] = []

    def start(handler: Handler) -> FakeServer:
        server = FakeServer(short_tmp / f"fake{len(servers)}.sock", handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
    errors = [error for server in servers for error in server.errors]
    if errors:
        raise AssertionError(f"a fake server's handler failed: {errors[0]!r}") from errors[0]


@pytest.fixture
def raw_connect() -> Iterator[Callable[[str], FrameSocket]]:
    """A factory: ``raw_connect(address)`` opens a plain socket to ``address`` (unix: or tcp://)
    for tests that write frames by hand; all are closed when the test ends."""
    sockets: list[FrameSocket] = []

    def connect(address: str) -> FrameSocket:
        parsed = parse_address(address)
        if parsed.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(5)
            sock.connect(parsed.path)
        else:
            sock = socket.create_connection((parsed.host, parsed.port), timeout=5)
        connection = FrameSocket(sock)
        sockets.append(connection)
        return connection

    yield connect
    for connection in sockets:
        connection.close()
