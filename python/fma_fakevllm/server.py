"""The fake vLLM server. ``--help`` lists the options."""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="fma_fakevllm",
        description="A fake vLLM OpenAI-compatible server with sleep/wake, for tests and demos.")
    parser.add_argument("--host", default=os.environ.get("POD_IP") or "0.0.0.0",
                        help="the address to listen on (default: $POD_IP when set, so the instances of a "
                             "launcher on fma-devcluster listen on their pod's own address; else 0.0.0.0)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", default="fake/model")
    parser.add_argument("--startup-delay", type=float, default=0.0,
                        help="seconds during which /health answers 503")
    parser.add_argument("--import", dest="imports", action="append", default=[],
                        help="modules to import at start, e.g. scipy.stats (repeatable; commas allowed)")
    parser.add_argument("--weight-gib", type=float, default=1.0,
                        help="the model's weight size, for the sleep/wake time model")
    parser.add_argument("--sleep-seconds-per-gib", type=float, default=0.0,
                        help="seconds that /sleep takes per GiB of weights (level 1 copies them out)")
    parser.add_argument("--wake-seconds-per-gib", type=float, default=0.0,
                        help="seconds that /wake_up takes per GiB (vLLM: about 3 s for 64 GiB)")
    parser.add_argument("--ignore-sigterm", action="store_true",
                        help="ignore SIGTERM, as a hung server would (tests the grace period)")
    parser.add_argument("--spawn-grandchild", action="store_true",
                        help="start a long-running grandchild in the same process group")
    parser.add_argument("--spawn-daemon", action="store_true",
                        help="start a daemon the classic way (fork, setsid, fork again): it leaves "
                             "the instance's session and is reparented away from the instance")
    parser.add_argument("--quiet-daemon", action="store_true",
                        help="with --spawn-daemon: the daemon also sends its standard input, output "
                             "and error to /dev/null, as daemon(3) does")
    parser.add_argument("--exit-after", type=float, default=None,
                        help="exit by itself after this many seconds")
    parser.add_argument("--exit-code", type=int, default=3, help="the status for --exit-after")
    # vLLM options the launcher and controller pass; accepted and reported, not acted on.
    parser.add_argument("--gpu-memory-utilization", type=float, default=None)
    parser.add_argument("--enable-sleep-mode", action="store_true")
    return parser.parse_known_args(argv)[0]


class State:
    def __init__(self, arguments: argparse.Namespace, preloaded: list[str], import_seconds: float) -> None:
        self.arguments = arguments
        self.started = time.monotonic()
        self.ready_at = self.started + arguments.startup_delay
        self.sleeping = False
        self.sleep_level = 0
        self.lock = threading.Lock()
        self.preloaded = preloaded
        self.import_seconds = import_seconds
        self.grandchild: subprocess.Popen | None = None
        self.daemon_pid: int | None = None

    @property
    def ready(self) -> bool:
        return time.monotonic() >= self.ready_at


def completion_text(prompt: str, max_tokens: int) -> str:
    """Deterministic text: the same prompt always gives the same words."""
    words = []
    digest = hashlib.sha256(prompt.encode()).digest()
    vocabulary = ["fast", "model", "actuation", "wakes", "sleeping", "servers", "in", "seconds"]
    for index in range(max(0, max_tokens)):
        words.append(vocabulary[digest[index % len(digest)] % len(vocabulary)])
    return " " + " ".join(words)


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fma-fakevllm/0.1"

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
            sys.stdout.write("%s %s\n" % (self.address_string(), format % args))

        def reply(self, status: int, body: object, content_type: str = "application/json") -> None:
            data = (json.dumps(body) if content_type == "application/json" else str(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def read_body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def do_GET(self) -> None:
            path = urlparse(self.path).path
            if path == "/health":
                if state.ready:
                    self.reply(200, "", "text/plain")
                else:
                    self.reply(503, "starting up", "text/plain")
            elif path == "/v1/models":
                self.reply(200, {"object": "list", "data": [
                    {"id": state.arguments.model, "object": "model", "owned_by": "fma-fakevllm"}]})
            elif path == "/is_sleeping":
                self.reply(200, {"is_sleeping": state.sleeping})
            elif path == "/fma/process":
                self.reply(200, process_report(state))
            else:
                self.reply(404, {"error": f"no route {path}"})

        def do_POST(self) -> None:
            url = urlparse(self.path)
            body = self.read_body()
            if url.path == "/sleep":
                level = int(parse_qs(url.query).get("level", ["1"])[0])
                if level not in (1, 2):
                    self.reply(400, {"error": f"level must be 1 or 2, not {level}"})
                    return
                with state.lock:
                    if not state.sleeping:
                        time.sleep(state.arguments.weight_gib * state.arguments.sleep_seconds_per_gib
                                   if level == 1 else 0)
                        state.sleeping, state.sleep_level = True, level
                self.reply(200, "", "text/plain")
            elif url.path == "/wake_up":
                with state.lock:
                    if state.sleeping:
                        time.sleep(state.arguments.weight_gib * state.arguments.wake_seconds_per_gib)
                        state.sleeping, state.sleep_level = False, 0
                self.reply(200, "", "text/plain")
            elif url.path == "/v1/completions":
                if state.sleeping:
                    self.reply(503, {"error": "the model is sleeping"})
                    return
                try:
                    request = json.loads(body or b"{}")
                except json.JSONDecodeError as error:
                    self.reply(400, {"error": f"invalid JSON: {error}"})
                    return
                prompt = str(request.get("prompt", ""))
                max_tokens = int(request.get("max_tokens", 16))
                self.reply(200, {
                    "id": "cmpl-" + hashlib.sha256(prompt.encode()).hexdigest()[:16],
                    "object": "text_completion",
                    "model": state.arguments.model,
                    "choices": [{"index": 0, "text": completion_text(prompt, max_tokens),
                                 "finish_reason": "length"}],
                    "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": max_tokens,
                              "total_tokens": len(prompt.split()) + max_tokens},
                })
            else:
                self.reply(404, {"error": f"no route {url.path}"})

    return Handler


def open_descriptors() -> dict[str, str]:
    """Each open descriptor and what it points to (the listing's own descriptor left out)."""
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the descriptor os.listdir itself used, closed by now
        found[name] = target
    return found


def process_report(state: State) -> dict:
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    return {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "pgid": os.getpgid(0),
        "sid": os.getsid(0),
        "argv": sys.argv,
        "env": dict(os.environ),
        "fds": open_descriptors(),
        "blocked_signals": sorted(int(number) for number in blocked),
        "sigterm": str(signal.getsignal(signal.SIGTERM)),
        "sigpipe": str(signal.getsignal(signal.SIGPIPE)),
        "sigint": str(signal.getsignal(signal.SIGINT)),
        "preloaded": state.preloaded,
        "import_seconds": state.import_seconds,
        "grandchild_pid": state.grandchild.pid if state.grandchild else None,
        "daemon_pid": state.daemon_pid,
        "sleeping": state.sleeping,
    }


def wait_for_the_end() -> None:
    """The daemon's life: waits for a signal, says on its output (the instance's log, unless
    quiet) which signal came from which process, then ends as that signal would. (SIGKILL,
    which is how the launcher stops it, cannot be caught and says nothing.)"""
    catchable = set(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP}
    signal.pthread_sigmask(signal.SIG_BLOCK, catchable)
    while True:
        info = signal.sigwaitinfo(catchable)
        if info.si_signo in (signal.SIGCHLD, signal.SIGWINCH, signal.SIGURG, signal.SIGCONT):
            continue  # ignored by default
        try:
            with open(f"/proc/{info.si_pid}/cmdline", "rb") as file:
                sender = file.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            sender = "(gone)"
        print(f"fma_fakevllm daemon {os.getpid()}: {signal.Signals(info.si_signo).name} from pid "
              f"{info.si_pid} ({sender})", file=sys.stderr, flush=True)
        signal.signal(info.si_signo, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [info.si_signo])
        os.kill(os.getpid(), info.si_signo)
        os._exit(128 + info.si_signo)


def spawn_daemon(quiet: bool = False) -> int:
    """Forks, starts a new session, forks again and lets the middle process exit: the daemon
    (which sleeps) is in no process group or session of the instance's. Returns its pid."""
    read_end, write_end = os.pipe()
    middle = os.fork()
    if middle == 0:
        os.close(read_end)
        os.setsid()
        daemon = os.fork()
        if daemon == 0:
            os.close(write_end)
            if quiet:
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
            wait_for_the_end()
        os.write(write_end, str(daemon).encode())
        os._exit(0)
    os.close(write_end)
    pid = int(os.read(read_end, 32).decode())
    os.close(read_end)
    os.waitpid(middle, 0)
    return pid


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    modules = [name for entry in arguments.imports for name in entry.split(",") if name]
    preloaded = [name for name in modules if name in sys.modules]
    started = time.monotonic()
    for name in modules:
        importlib.import_module(name)
    import_seconds = time.monotonic() - started
    if arguments.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    state = State(arguments, preloaded, import_seconds)
    if arguments.spawn_grandchild:
        state.grandchild = subprocess.Popen(["sleep", "100000"])
    if arguments.spawn_daemon:
        state.daemon_pid = spawn_daemon(arguments.quiet_daemon)
    if arguments.exit_after is not None:
        timer = threading.Timer(arguments.exit_after, lambda: os._exit(arguments.exit_code))
        timer.daemon = True
        timer.start()
    server = ThreadingHTTPServer((arguments.host, arguments.port), make_handler(state))
    server.daemon_threads = True
    print(f"fma_fakevllm: serving {arguments.model} on {arguments.host}:{server.server_address[1]} "
          f"(pid {os.getpid()}, imports {import_seconds:.3f} s, preloaded {preloaded})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
