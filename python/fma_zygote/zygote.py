"""The zygote's loop: preload, then fork instances and report their exits at once.

Each forked child, before it runs the server's entry point:

- starts a new session and process group (``setsid``), so the launcher can signal the whole
  group and signals aimed at the launcher never reach it;
- gives every signal the disposition a freshly started interpreter has and unblocks them all
  (the zygote's own SIGCHLD handling must not leak into the server: a child that swallowed
  SIGTERM would make every stop wait for the grace period): the default, except SIGPIPE and
  SIGXFSZ ignored (a write to a socket its client closed is an error the server handles, not
  the end of the process) and SIGINT raising KeyboardInterrupt;
- sends stdin to /dev/null and stdout and stderr to the instance's append-only log file;
- closes every other inherited descriptor (the control socket, the wakeup pipe, anything the
  preloaded modules opened);
- applies the environment changes, then runs the entry point module as ``__main__`` with the
  given argv, and exits with its status without running the zygote's exit handlers.

A create costs no fork: the zygote keeps one child forked ahead of time (a *spare*), already
in its own session with its signals reset and every inherited descriptor closed, waiting on a
pipe for the ZygoteFork it will run. A create hands the spare its instance (it redirects to the
log, reports, and runs the entry point at once), and the zygote forks the next spare right after
reporting the fork. Until it is given an instance a spare dies with the zygote (a parent-death
signal, cleared once it becomes an instance, which outlives its zygote). ``--no-spare``
(fma-launcher's ``--no-spare``) forks each instance when it is asked for.

The zygote reaps its children on SIGCHLD (a wakeup pipe makes the signal a readable event, so
there is no polling) and sends ``ZygoteExited`` with the exit code or the signal.
"""

from __future__ import annotations

import argparse
import builtins
import gc
import importlib
import importlib.util
import os
import runpy
import selectors
import signal
import socket
import struct
import sys
import time
import traceback

from fma.v1 import launcher_pb2
from fma_zygote import compiled_sources
from fma_zygote.preload_gap import PreloadGap, report_path

MAX_FRAME_BYTES = 4 * 1024 * 1024


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fma_zygote", description=__doc__)
    parser.add_argument("--control-fd", type=int, required=True,
                        help="the descriptor of the launcher's end of the control socket pair")
    parser.add_argument("--preload", action="append", default=[],
                        help="a module to import before forking (repeatable; commas allowed)")
    parser.add_argument("--no-spare", dest="spare", action="store_false",
                        help="fork each instance when it is asked for, instead of keeping one "
                             "forked ahead of time (a spare, which takes the next instance)")
    parser.add_argument("--entrypoint", default=None,
                        help="the entry point module the forks will run: compiled, with what it "
                             "imports, before the zygote reports ready (not imported)")
    return parser.parse_args(argv)


def preload(modules: list[str]) -> tuple[list[str], dict[str, str], float]:
    """Imports each module; returns those imported, those that failed (with why) and the time."""
    started = time.monotonic()
    loaded, failed = [], {}
    for name in modules:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except BaseException as error:  # an import may raise anything, SystemExit included
            failed[name] = f"{type(error).__name__}: {error}"
    return loaded, failed, time.monotonic() - started


class Channel:
    """Length-prefixed protobuf frames over the control socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def send(self, event: launcher_pb2.ZygoteEvent) -> None:
        body = event.SerializeToString()
        self.sock.sendall(struct.pack(">I", len(body)) + body)

    def receive(self) -> list[launcher_pb2.ZygoteCommand] | None:
        """The commands that are complete after one read; None when the launcher is gone."""
        chunk = self.sock.recv(65536)
        if not chunk:
            return None
        self.buffer += chunk
        commands = []
        while len(self.buffer) >= 4:
            (length,) = struct.unpack(">I", self.buffer[:4])
            if length > MAX_FRAME_BYTES:
                raise ValueError(f"command frame of {length} bytes exceeds {MAX_FRAME_BYTES}")
            if len(self.buffer) < 4 + length:
                break
            command = launcher_pb2.ZygoteCommand()
            command.ParseFromString(bytes(self.buffer[4:4 + length]))
            del self.buffer[:4 + length]
            commands.append(command)
        return commands


_entry_code: dict = {}


def entry_code(name: str):
    """The spec and code object `runpy.run_module(name)` would run (a package's ``__main__``),
    compiled once here in the zygote, so that no child compiles its source again (without .pyc
    files, as under PYTHONDONTWRITEBYTECODE=1, each would); the modules it imports are compiled
    too (`compiled_sources`). (None, None) when it cannot be found or loaded this way; the child
    then leaves it to runpy, which reports why."""
    if name not in _entry_code:
        try:
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.submodule_search_locations is not None:
                spec = importlib.util.find_spec(name + ".__main__")
            code = spec.loader.get_code(spec.name) if spec is not None and spec.loader is not None else None
            _entry_code[name] = (spec, code) if code is not None else (None, None)
            if code is not None:
                # And what it imports, compiled (not imported) for the children too.
                compiled_sources.compile_imports_of(code, spec.parent)
        except BaseException:  # noqa: BLE001 — runpy in the child says what is wrong
            _entry_code[name] = (None, None)
    return _entry_code[name]


def run_as_main(spec, code) -> None:
    """Runs `code` as the ``__main__`` module, as runpy.run_module(..., alter_sys=True) does."""
    main = type(sys)("__main__")
    main.__dict__.update(__name__="__main__", __file__=spec.origin, __cached__=None, __loader__=spec.loader,
                         __package__=spec.parent, __spec__=spec, __builtins__=builtins)
    sys.modules["__main__"] = main
    if spec.origin:
        sys.argv[0] = spec.origin
    exec(code, main.__dict__)  # noqa: S102 — the entry point the operator configured


def isolate() -> None:
    """In a forked child: a session of its own and the signal dispositions a freshly started
    interpreter has, all signals unblocked."""
    os.setsid()
    signal.set_wakeup_fd(-1)
    for number in signal.valid_signals():
        if number in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(number, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    # What CPython itself sets at start-up.
    for name in ("SIGPIPE", "SIGXFSZ"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def close_descriptors_above(lowest: int, keep: tuple[int, ...] = ()) -> None:
    for fd in sorted(int(name) for name in os.listdir("/proc/self/fd")):
        if fd >= lowest and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def run_instance(fork: launcher_pb2.ZygoteFork, isolated: int) -> None:
    """In an isolated child: redirect (then say so on `isolated`, closed with the other
    descriptors), run the entry point, exit. Never returns."""
    status = 1
    try:
        # Standard output on the instance's log is also the mark a restarted launcher finds
        # the process by: it is in place before the fork is reported.
        log = os.open(fork.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.write(isolated, b"i")
        if fork.cgroup:
            # Before the entry point runs: whatever the instance starts stays in its cgroup. (After
            # the report: moving into a cgroup takes 0.4 ms, the create need not wait for it.)
            try:
                with open(os.path.join(fork.cgroup, "cgroup.procs"), "w") as procs:
                    procs.write(str(os.getpid()))
            except OSError as error:
                print(f"fma_zygote: cannot join cgroup {fork.cgroup}: {error}", file=sys.stderr)
        close_descriptors_above(3)
        sys.stdin = open(0, "r", closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)

        PreloadGap(report_path(fork.log_path)).install()
        for key in fork.unset_env:
            os.environ.pop(key, None)
        os.environ.update(fork.env)
        sys.argv = list(fork.argv) or [fork.entrypoint]
        try:
            spec, code = entry_code(fork.entrypoint)
            if code is not None:
                run_as_main(spec, code)
            else:
                runpy.run_module(fork.entrypoint, run_name="__main__", alter_sys=True)
            status = 0
        except SystemExit as exit_request:
            code = exit_request.code
            if code is None:
                status = 0
            elif isinstance(code, int):
                status = code
            else:
                print(code, file=sys.stderr)
                status = 1
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status & 0xFF)


def run_child(fork: launcher_pb2.ZygoteFork, isolated: int) -> None:
    """In a child forked for `fork`: isolate, then run the instance. Never returns."""
    try:
        isolate()
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    run_instance(fork, isolated)


# prctl(PR_SET_PDEATHSIG, …): a spare dies with the zygote until it is given an instance.
_PR_SET_PDEATHSIG = 1


def _parent_death_signal(number: int) -> bool:
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, number, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def run_spare(commands: int, isolated: int, zygote: int) -> None:
    """In a spare child: isolate now, then wait for the instance it will be (a ZygoteFork on
    `commands`, ended by EOF; EOF alone retires it). Never returns."""
    try:
        if not _parent_death_signal(signal.SIGKILL) or os.getppid() != zygote:
            os._exit(0)  # no way to die with the zygote, or it is gone already
        isolate()
        close_descriptors_above(3, keep=(commands, isolated))
        chunks = []
        while chunk := os.read(commands, 65536):
            chunks.append(chunk)
        if not chunks:
            os._exit(0)
        fork = launcher_pb2.ZygoteFork.FromString(b"".join(chunks))
        _parent_death_signal(0)  # an instance outlives its zygote; a new launcher adopts it
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    run_instance(fork, isolated)


class Zygote:
    def __init__(self, channel: Channel, spares: bool = True) -> None:
        self.channel = channel
        self.pid = os.getpid()
        self.spares = spares
        self.spare: tuple[int, int, int] | None = None
        self.wakeup_read, self.wakeup_write = os.pipe()
        os.set_blocking(self.wakeup_read, False)
        os.set_blocking(self.wakeup_write, False)

    def fork(self, command: launcher_pb2.ZygoteFork) -> None:
        # The child says when it has its own session and default signals: only then is the
        # fork reported, so a SIGTERM the launcher sends to the new process group at once
        # (a delete right after the create) can neither miss the group nor be ignored.
        entry_code(command.entrypoint)  # compiled once, before the first fork that runs it
        pid = self.use_spare(command)
        if pid is None:
            pid = self.fork_now(command)
        if pid is not None:
            self.channel.send(launcher_pb2.ZygoteEvent(forked=launcher_pb2.ZygoteForked(
                instance_id=command.instance_id, pid=pid)))
        self.prepare_spare()  # once the fork is reported: the next create finds one waiting

    def fork_now(self, command: launcher_pb2.ZygoteFork) -> int | None:
        isolated_read, isolated_write = os.pipe()
        try:
            pid = os.fork()
        except OSError as error:
            os.close(isolated_read)
            os.close(isolated_write)
            self.channel.send(launcher_pb2.ZygoteEvent(fork_failed=launcher_pb2.ZygoteForkFailed(
                instance_id=command.instance_id, error=f"fork failed: {error}")))
            return None
        if pid == 0:
            os.close(isolated_read)
            run_child(command, isolated_write)
        os.close(isolated_write)
        try:
            os.read(isolated_read, 1)  # b"" when the child died first: report it all the same
        finally:
            os.close(isolated_read)
        return pid

    def prepare_spare(self) -> None:
        """Forks the next instance ahead of time, isolated and waiting, so that a create costs
        no fork: a spare (`run_spare`) takes the next ZygoteFork and runs it at once."""
        if not self.spares or self.spare is not None:
            return
        commands_read, commands_write = os.pipe()
        isolated_read, isolated_write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (commands_read, commands_write, isolated_read, isolated_write):
                os.close(fd)
            return
        if pid == 0:
            os.close(commands_write)
            os.close(isolated_read)
            run_spare(commands_read, isolated_write, self.pid)
        os.close(commands_read)
        os.close(isolated_write)
        self.spare = (pid, commands_write, isolated_read)

    def use_spare(self, command: launcher_pb2.ZygoteFork) -> int | None:
        """Gives `command` to the spare; its pid, or None when there is none (or it died)."""
        spare, self.spare = self.spare, None
        if spare is None:
            return None
        pid, commands_write, isolated_read = spare
        try:
            try:
                self._write_all(commands_write, command.SerializeToString())
            finally:
                os.close(commands_write)
            reported = os.read(isolated_read, 1)
        except OSError:
            reported = b""
        finally:
            os.close(isolated_read)
        if reported != b"i":
            return None  # the spare died before taking it: fork anew
        return pid

    @staticmethod
    def _write_all(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            exited = launcher_pb2.ZygoteExited(pid=pid)
            if os.WIFSIGNALED(status):
                exited.signal = os.WTERMSIG(status)
            else:
                exited.exit_code = os.WEXITSTATUS(status)
            self.channel.send(launcher_pb2.ZygoteEvent(exited=exited))

    def serve(self) -> int:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wakeup_write, warn_on_full_buffer=False)
        selector = selectors.DefaultSelector()
        selector.register(self.channel.sock, selectors.EVENT_READ, "control")
        selector.register(self.wakeup_read, selectors.EVENT_READ, "wakeup")
        self.reap()  # children may have exited before the handler was in place
        self.prepare_spare()
        while True:
            for key, _ in selector.select():
                if key.data == "wakeup":
                    try:
                        while os.read(self.wakeup_read, 512):
                            pass
                    except BlockingIOError:
                        pass
                    self.reap()
                    continue
                commands = self.channel.receive()
                if commands is None:
                    # The launcher is gone. Instances run on in their own sessions; a new
                    # launcher adopts them.
                    return 0
                for command in commands:
                    kind = command.WhichOneof("command")
                    if kind == "fork":
                        self.fork(command.fork)
                    elif kind == "shutdown":
                        return 0


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    sock = socket.socket(fileno=arguments.control_fd)
    channel = Channel(sock)
    modules = [name for entry in arguments.preload for name in entry.split(",") if name]
    loaded, failed, seconds = preload(modules)
    if arguments.entrypoint:
        entry_code(arguments.entrypoint)
    gc.collect()
    gc.freeze()
    channel.send(launcher_pb2.ZygoteEvent(ready=launcher_pb2.ZygoteReady(
        pid=os.getpid(), preloaded=loaded, failed=failed, import_seconds=seconds)))
    return Zygote(channel, spares=arguments.spare).serve()
