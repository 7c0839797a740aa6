"""fma-launcher's defaults against the real vLLM (scripts/test-vllm.sh runs this in its venv).

    vllm_check.py --build-model DIR      a tiny random-weight Llama model and its tokenizer
    vllm_check.py --root … --model DIR …  the check (see scripts/test-vllm.sh)

The check:

1. starts ``fma-launcher serve`` with its defaults (no --entrypoint, no --preload; the venv's
   python for the zygote, the repository's python/ for fma_zygote) and reads the zygote's
   preload time and what it preloaded from the launcher's "zygote ready" log line;
2. watches the launcher's events (``fmactl launcher watch -o json``) and creates one instance of
   the tiny model (``fmactl launcher create``), then follows it until READY (it serves: a CPU
   platform) or STOPPED (on a machine without a GPU: vLLM's own "no device" error in its log,
   and a non-zero exit code), within --timeout seconds: a hang (a fork-safety deadlock) fails;
3. reads the instance's preload gap (the zygote's ID.imports.json beside its log) and fails when
   its imports took more than --gap-budget-ms;
4. starts the same server cold (``python -m vllm.entrypoints.cli.main serve …``) and times it
   to the same point (its exit with the same error, or /health);
5. prints the figures, and kills every process it started (by process group).

Exit status 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

TOKENIZER_TEXT = [
    "The launcher imports the server's modules once and forks each instance from it.",
    "A warm start takes milliseconds; a cold start imports everything again.",
    "vLLM serves large language models with paged attention.",
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world! How are you today? 0123456789",
    "Instances outlive the launcher: a restarted launcher adopts them from its journal.",
]

# vLLM's own errors when it finds no accelerator it can run on (the "no device" class).
NO_DEVICE = re.compile(
    r"Failed to infer device type|No CUDA GPUs are available|Found no NVIDIA driver|"
    r"no NVIDIA driver|NVML Shared Library Not Found|libcuda\.so[.0-9]*: cannot open|"
    r"Torch not compiled with CUDA enabled|No platform detected|device type.*(not|un)(supported|available)|"
    r"CUDA driver initialization failed|no (GPU|accelerator|device)s? (is |are )?(found|available)",
    re.IGNORECASE)
# The last exception of a traceback: "Module.Error: message" at the start of a line.
EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?([A-Za-z_]\w*(?:Error|Exception|Interrupt|Exit))(?::\s*(.*))?$")
IMPORT_FAILURE = {"ImportError", "ModuleNotFoundError"}


def build_model(directory: Path) -> None:
    """A random-weight Llama model of a few MB and a byte-level BPE tokenizer trained on a few
    lines, written with transformers, safetensors and tokenizers. Nothing is downloaded."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=["<unk>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(TOKENIZER_TEXT, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", bos_token="<s>",
                                   eos_token="</s>", model_max_length=512)
    fast.save_pretrained(str(directory))

    config = LlamaConfig(vocab_size=len(fast), hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                         pad_token_id=None, tie_word_embeddings=False)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(str(directory))
    size = sum(path.stat().st_size for path in directory.iterdir())
    print(f"tiny model: {sum(p.numel() for p in model.parameters())} parameters, vocabulary {len(fast)}, "
          f"{size / 1e6:.1f} MB in {directory}")


# ---- processes --------------------------------------------------------------------------------

class Processes:
    """Every process group this check started, killed at the end."""

    def __init__(self) -> None:
        self.groups: list[int] = []
        self.pids: list[tuple[int, str]] = []  # (pid, a word its command line holds)

    def start(self, argv: list[str], **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(argv, start_new_session=True, **kwargs)
        self.groups.append(process.pid)
        return process

    def adopt(self, pid: int, mark: str) -> None:
        """A process started by one of ours in a session of its own (the zygote, an instance)."""
        if pid > 0 and (pid, mark) not in self.pids:
            self.pids.append((pid, mark))

    @staticmethod
    def _ours(pid: int, mark: str) -> bool:
        try:
            return mark.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False

    def stop(self, process: subprocess.Popen, timeout: float = 15.0) -> None:
        """SIGTERM to its group, SIGKILL after `timeout` seconds."""
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def kill_all(self) -> None:
        for pid, mark in self.pids:
            if self._ours(pid, mark):
                for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                    try:
                        kill()
                    except (ProcessLookupError, PermissionError):
                        pass
        for group in self.groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.05):
    """Polls `predicate` until it returns something truthy or `timeout` passes (then None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


class EventWatcher:
    """`fmactl launcher watch -o json`, one JSON event a line, each stamped on arrival."""

    def __init__(self, processes: Processes, fmactl: str, address: str, log: Path) -> None:
        self.events: list[tuple[float, dict]] = []
        self.condition = threading.Condition()
        self.stderr = open(log, "w")
        self.process = processes.start([fmactl, "launcher", "watch", address, "-o", "json"],
                                       stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self.condition:
                self.events.append((time.monotonic(), event))
                self.condition.notify_all()

    def wait(self, predicate, timeout: float):
        """The first (arrival time, event) that `predicate` accepts, or None after `timeout`."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                for stamped in self.events:
                    if predicate(stamped[1]):
                        return stamped
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None and not self.thread.is_alive():
                    return None
                self.condition.wait(min(remaining, 1.0))


# ---- logs -------------------------------------------------------------------------------------

def last_exception(text: str) -> tuple[str, str] | None:
    """The type and message of the last exception line in a log (a traceback's last line)."""
    found = None
    for line in text.splitlines():
        match = EXCEPTION_LINE.match(line.strip())
        if match and not line.startswith((" ", "\t")):
            found = (match.group(1), (match.group(2) or "").strip())
    return found


def classify(text: str) -> dict:
    """What a server's log says about how it ended."""
    exception = last_exception(text)
    device = NO_DEVICE.search(text)
    return {
        "exception": exception,
        "no_device": device.group(0) if device else None,
        "import_failure": bool(exception and exception[0] in IMPORT_FAILURE),
    }


def tail(text: str, lines: int = 25) -> str:
    return "\n".join("    | " + line for line in text.splitlines()[-lines:])


# ---- the check --------------------------------------------------------------------------------

class Check:
    def __init__(self, arguments: argparse.Namespace) -> None:
        self.a = arguments
        self.root = Path(arguments.root).resolve()
        self.bin = Path(arguments.bin_dir).resolve()
        self.python = str(Path(arguments.venv).resolve() / "bin" / "python")
        self.model = str(Path(arguments.model).resolve())
        self.state = Path(tempfile.mkdtemp(prefix="fma-test-vllm."))
        self.socket = f"unix:{self.state}/launcher.sock"
        self.processes = Processes()
        self.failures: list[str] = []
        self.figures: dict = {}

    def fail(self, message: str) -> None:
        self.failures.append(message)
        print(f"FAIL: {message}", flush=True)

    def note(self, message: str) -> None:
        print(f"test-vllm: {message}", flush=True)

    def server_options(self, port: int) -> list[str]:
        return ["--model", self.model, "--host", "127.0.0.1", "--port", str(port),
                "--max-model-len", "256", "--max-num-seqs", "4", "--served-model-name", "tiny"]

    # 1. the launcher and its zygote
    def start_launcher(self) -> subprocess.Popen | None:
        ready_file = self.state / "ready"
        self.launcher_log = self.state / "launcher.log"
        argv = [str(self.bin / "fma-launcher"), "serve", "--listen", self.socket, "--state-dir", str(self.state / "state"),
                "--python", self.python, "--python-path", str(self.root / "python"), "--mock-gpus", "1",
                "--ready-file", str(ready_file)]
        self.note("starting " + " ".join(argv))
        started = time.monotonic()
        launcher = self.processes.start(argv, stdin=subprocess.DEVNULL, stdout=open(self.launcher_log, "w"),
                                        stderr=subprocess.STDOUT)
        ready = wait_for(lambda: ready_file.exists() or launcher.poll() is not None, self.a.timeout, 0.1)
        log = self.launcher_log.read_text(errors="replace")
        for match in re.finditer(r"zygote_pid=(\d+)", log):
            self.processes.adopt(int(match.group(1)), "fma_zygote")
        if not ready or not ready_file.exists():
            self.fail(f"the launcher did not become ready in {self.a.timeout:.0f} s "
                      f"(exit {launcher.poll()}); its log:\n{tail(log)}")
            return None
        self.figures["launcher_ready_seconds"] = time.monotonic() - started
        line = next((line for line in log.splitlines() if "zygote ready" in line), "")
        seconds = re.search(r"import_seconds=([0-9.eE+-]+)", line)
        preloaded = re.search(r"preloaded=(\S*)", line)
        failed = re.search(r"failed=(\[.*?\]) ", line)
        self.figures["preload_seconds"] = float(seconds.group(1)) if seconds else None
        self.figures["preloaded"] = preloaded.group(1).split(",") if preloaded and preloaded.group(1) else []
        self.figures["preload_failed"] = failed.group(1) if failed else "?"
        self.note(f"zygote ready: preloaded {self.figures['preloaded']} in {self.figures['preload_seconds']} s; "
                  f"failed: {self.figures['preload_failed']}")
        if not seconds:
            self.fail(f"no 'zygote ready' line with import_seconds in the launcher's log:\n{tail(log)}")
        if failed and failed.group(1) not in ("[:]", "[]"):
            self.fail(f"the zygote could not preload some default modules: {failed.group(1)}")
        return launcher

    # 2. the warm instance
    def warm(self) -> None:
        watcher = EventWatcher(self.processes, str(self.bin / "fmactl"), self.socket, self.state / "watch.err")
        instance_id = "tiny"
        port = free_port()
        argv = [str(self.bin / "fmactl"), "launcher", "create", self.socket, "--id", instance_id, "-o", "json",
                "--"] + self.server_options(port)
        self.note("creating " + " ".join(argv))
        started = time.monotonic()
        created = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if created.returncode != 0:
            self.fail(f"fmactl launcher create failed ({created.returncode}): {created.stderr.strip()}")
            return
        instance = json.loads(created.stdout)
        self.processes.adopt(int(instance.get("pid", 0)), "")  # its own session: the zygote setsid()s it
        self.instance_pid = int(instance.get("pid", 0))
        log_path = Path(instance["logPath"])

        def ends(event: dict) -> bool:
            data = event.get("instance", {})
            return data.get("id") == instance_id and (data.get("ready") or event.get("type") in ("STOPPED", "DELETED")
                                                        or data.get("status") == "STOPPED")

        ended = watcher.wait(ends, self.a.timeout)
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        gap_path = log_path.with_name(log_path.name[: -len(".log")] + ".imports.json")
        gap = json.loads(gap_path.read_text()) if gap_path.exists() else None
        self.figures["gap"] = gap
        # A copy: deleting the instance removes its log.
        self.figures["warm_log"] = str(self.state / "warm.log")
        Path(self.figures["warm_log"]).write_text(text)
        if ended is None:
            self.fail(f"the instance neither served nor stopped in {self.a.timeout:.0f} s: a hang "
                      f"(a fork-safety deadlock?); its log:\n{tail(text)}")
            self.figures["warm_outcome"] = "hang"
            self.stack_dump(self.instance_pid)
        else:
            at, event = ended
            self.figures["warm_seconds"] = at - started
            data = event["instance"]
            if data.get("ready"):
                self.figures["warm_outcome"] = "served (/health answered: READY)"
            else:
                exit_status = data.get("exit", {})
                self.figures["warm_outcome"] = (f"STOPPED, exit code {exit_status.get('exitCode', 0)}"
                                                + (f", signal {exit_status['signal']}" if exit_status.get("signal") else ""))
                self.figures["warm_exit"] = exit_status
                self.figures["warm_class"] = classify(text)
                self.judge_stop("the warm instance", exit_status.get("exitCode", 0), exit_status.get("signal", 0),
                                self.figures["warm_class"], text)
        self.note(f"warm instance: {self.figures['warm_outcome']} after {self.figures.get('warm_seconds', float('nan')):.2f} s")
        if gap is None:
            self.fail(f"no preload-gap report at {gap_path}")
        elif gap["seconds"] * 1000 > self.a.gap_budget_ms:
            self.fail(f"the default preload list leaves {gap['seconds'] * 1000:.0f} ms of imports "
                      f"({gap['modules']} modules) to every instance, over the {self.a.gap_budget_ms:.0f} ms budget; "
                      f"slowest: " + ", ".join(f"{m['module']} {m['seconds'] * 1000:.0f} ms" for m in gap["slowest"]))
        # Done with it: delete it (its process is gone already, or is stopped now).
        subprocess.run([str(self.bin / "fmactl"), "launcher", "delete", self.socket, instance_id, "--timeout", "30"],
                       capture_output=True, text=True, timeout=60)
        self.processes.stop(watcher.process, 5)

    def judge_stop(self, what: str, code: int, signal_number: int, found: dict, text: str) -> None:
        if signal_number:
            self.fail(f"{what} was killed by signal {signal_number}; its log:\n{tail(text)}")
        elif code == 0:
            self.fail(f"{what} exited 0 without serving; its log:\n{tail(text)}")
        if found["import_failure"]:
            self.fail(f"{what} stopped on an import error: {found['exception']}; its log:\n{tail(text)}")
        elif not found["no_device"]:
            self.fail(f"{what} stopped, but not with vLLM's 'no device' error (last exception: "
                      f"{found['exception']}); its log:\n{tail(text)}")

    def stack_dump(self, pid: int) -> None:
        """Where a hung instance's threads are (py-spy, when the venv has it)."""
        spy = Path(self.python).with_name("py-spy")
        if pid and spy.exists():
            dump = subprocess.run([str(spy), "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=60)
            print(tail(dump.stdout + dump.stderr, 60))

    # 4. the same server, cold
    def cold(self) -> None:
        port = free_port()
        log_path = self.state / "cold.log"
        argv = [self.python, "-m", "vllm.entrypoints.cli.main", "serve"] + self.server_options(port)
        self.note("cold: " + " ".join(argv))
        started = time.monotonic()
        process = self.processes.start(argv, stdin=subprocess.DEVNULL, stdout=open(log_path, "w"),
                                       stderr=subprocess.STDOUT)
        served = wait_for(lambda: process.poll() is not None or health(port), self.a.timeout, 0.05)
        elapsed = time.monotonic() - started
        text = log_path.read_text(errors="replace")
        self.figures["cold_log"] = str(log_path)
        if not served:
            self.figures["cold_outcome"] = "hang"
            self.fail(f"the cold server neither served nor stopped in {self.a.timeout:.0f} s; its log:\n{tail(text)}")
        elif process.poll() is None:
            self.figures["cold_seconds"] = elapsed
            self.figures["cold_outcome"] = "served (/health answered)"
        else:
            self.figures["cold_seconds"] = elapsed
            code = process.returncode
            self.figures["cold_outcome"] = f"exited, code {code}" if code >= 0 else f"killed by signal {-code}"
            self.figures["cold_class"] = classify(text)
            self.judge_stop("the cold server", max(code, 0), max(-code, 0), self.figures["cold_class"], text)
        self.processes.stop(process, 15)
        self.note(f"cold server: {self.figures['cold_outcome']} after {elapsed:.2f} s")
        warm, cold = self.figures.get("warm_class"), self.figures.get("cold_class")
        if warm and cold and (warm["exception"] or ("",))[0] != (cold["exception"] or ("",))[0]:
            self.fail(f"the warm instance and the cold server did not stop at the same point: "
                      f"{warm['exception']} vs {cold['exception']}")
        warm_exit = self.figures.get("warm_exit")
        if warm_exit is not None and cold and warm_exit.get("exitCode", 0) != process.returncode:
            self.fail(f"the warm instance exited {warm_exit.get('exitCode', 0)}, the cold server {process.returncode}")
        if ("served" in self.figures.get("warm_outcome", "")) != ("served" in self.figures.get("cold_outcome", "")):
            self.fail(f"warm ({self.figures.get('warm_outcome')}) and cold ({self.figures.get('cold_outcome')}) "
                      f"did not reach the same point")

    # What the zygote's preload imports, module by module (a separate process, same order).
    def preload_profile(self) -> None:
        modules = self.figures.get("preloaded") or []
        if not modules:
            return
        code = (
            "import importlib, json, sys, time\n"
            "rows = []\n"
            "for name in sys.argv[1:]:\n"
            "    before = len(sys.modules); started = time.perf_counter()\n"
            "    importlib.import_module(name)\n"
            "    rows.append([name, time.perf_counter() - started, len(sys.modules) - before])\n"
            "print(json.dumps({'rows': rows, 'modules': len(sys.modules)}))\n")
        result = subprocess.run([self.python, "-c", code] + modules, capture_output=True, text=True,
                                timeout=self.a.timeout, start_new_session=True)
        if result.returncode == 0:
            self.figures["preload_profile"] = json.loads(result.stdout.strip().splitlines()[-1])

    def versions(self) -> None:
        result = subprocess.run([self.python, "-c",
                                 "from importlib.metadata import version as v; import json; "
                                 "print(json.dumps({n: v(n) for n in ('vllm', 'torch', 'transformers')}))"],
                                capture_output=True, text=True, timeout=120)
        self.figures["versions"] = json.loads(result.stdout) if result.returncode == 0 else {}

    def run(self) -> int:
        self.versions()
        launcher = None
        try:
            launcher = self.start_launcher()
            if launcher is not None:
                self.warm()
                self.cold()
                self.preload_profile()
        finally:
            if launcher is not None:
                self.processes.stop(launcher, 35)
            self.processes.kill_all()
        self.report()
        return 1 if self.failures else 0

    def report(self) -> None:
        f = self.figures
        install = {}
        if self.a.install_report and Path(self.a.install_report).exists():
            install = json.loads(Path(self.a.install_report).read_text())
        versions = f.get("versions", {})
        print("\n==== fma-launcher defaults against real vLLM ====")
        print(f"vllm {versions.get('vllm', '?')}, torch {versions.get('torch', '?')}, "
              f"transformers {versions.get('transformers', '?')}")
        if install:
            print(f"install: {install['download_bytes'] / 1e9:.2f} GB downloaded in {install['download_files']} wheels "
                  f"({install['download_seconds']:.0f} s), installed in {install['install_seconds']:.0f} s; "
                  f"venv {install['venv_bytes'] / 1e9:.2f} GB")
        if f.get("preload_seconds") is not None:
            print(f"preload: {f['preload_seconds']:.2f} s in the zygote: {', '.join(f['preloaded'])} "
                  f"(failed: {f.get('preload_failed')})")
        profile = f.get("preload_profile")
        if profile:
            print(f"  separately, in order ({profile['modules']} modules in sys.modules after):")
            for name, seconds, count in profile["rows"]:
                print(f"    {name:45s} {seconds:7.2f} s  +{count} modules")
        gap = f.get("gap")
        if gap:
            print(f"preload gap: {gap['modules']} modules imported by the instance after the fork, "
                  f"{gap['seconds'] * 1000:.0f} ms (budget {self.a.gap_budget_ms:.0f} ms); slowest:")
            for row in gap["slowest"]:
                print(f"    {row['module']:45s} {row['seconds'] * 1000:7.1f} ms")
        for which in ("warm", "cold"):
            seconds = f.get(f"{which}_seconds")
            found = f.get(f"{which}_class") or {}
            exception = found.get("exception")
            print(f"{which}: {f.get(f'{which}_outcome', 'not run')}"
                  + (f" after {seconds:.2f} s" if seconds is not None else "")
                  + (f"; {exception[0]}: {exception[1][:160]}" if exception else "")
                  + (f"  [log {f.get(f'{which}_log')}]" if f.get(f"{which}_log") else ""))
        if f.get("warm_seconds") and f.get("cold_seconds"):
            print(f"warm vs cold to the same point: {f['warm_seconds']:.2f} s vs {f['cold_seconds']:.2f} s "
                  f"({f['cold_seconds'] / f['warm_seconds']:.1f}x)")
        print(f"state (logs): {self.state}")
        print("test-vllm: " + ("PASS" if not self.failures else f"FAIL ({len(self.failures)}):"))
        for failure in self.failures:
            print("  - " + failure.splitlines()[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-model", metavar="DIR", help="only build the tiny model in DIR")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--bin-dir", default=".build/debug")
    parser.add_argument("--venv", default=".build/vllm-venv")
    parser.add_argument("--model", default=".build/vllm-model")
    parser.add_argument("--install-report", default=None)
    parser.add_argument("--gap-budget-ms", type=float, default=100.0)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds each start may take")
    arguments = parser.parse_args()
    if arguments.build_model:
        build_model(Path(arguments.build_model))
        return 0
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[name] = "1"
    return Check(arguments).run()


if __name__ == "__main__":
    sys.exit(main())
