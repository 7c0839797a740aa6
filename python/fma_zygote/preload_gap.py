"""The modules a forked instance imports itself: its preload gap.

A forked instance starts with every module the zygote imported. Whatever its server imports
beyond those is imported again in every instance, at every warm start: that is the gap between
the ``--preload`` list and what the server needs. The instance records it as it goes: each
outermost import of a new module, timed (the time includes what that module imported in turn),
and after each one writes the summary, atomically, to a file beside the instance's log
(``ID.imports.json``): how many modules ``sys.modules`` gained since the fork, the outermost
imports' seconds together, and the five slowest. The launcher reads it when the instance first
turns ready, keeps it in the instance's record (``Instance.preload_gap``) and logs it.
"""

from __future__ import annotations

import importlib._bootstrap as bootstrap
import json
import os
import sys
import time

SLOWEST = 5


def report_path(log_path: str) -> str:
    """Where the instance whose log is `log_path` writes its report."""
    base = log_path[: -len(".log")] if log_path.endswith(".log") else log_path
    return base + ".imports.json"


class PreloadGap:
    def __init__(self, path: str) -> None:
        self.path = path
        self.before = len(sys.modules)
        self.depth = 0
        self.seconds = 0.0
        self.outermost: list[tuple[float, str]] = []
        self.find_and_load = bootstrap._find_and_load

    def install(self) -> None:
        """Times every import of a new module from now on (every import statement that loads a
        module goes through importlib's _find_and_load; one already loaded does not)."""
        def find_and_load(name, import_):
            if self.depth > 0:
                return self.find_and_load(name, import_)
            self.depth += 1
            started = time.perf_counter()
            try:
                return self.find_and_load(name, import_)
            finally:
                self.depth -= 1
                self.record(name, time.perf_counter() - started)

        bootstrap._find_and_load = find_and_load

    def record(self, name: str, seconds: float) -> None:
        self.seconds += seconds
        self.outermost.append((seconds, name))
        self.outermost.sort(reverse=True)
        del self.outermost[SLOWEST:]
        self.write()

    def summary(self) -> dict:
        return {
            "modules": max(0, len(sys.modules) - self.before),
            "seconds": self.seconds,
            "slowest": [{"module": name, "seconds": seconds} for seconds, name in self.outermost],
        }

    def write(self) -> None:
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            with open(temporary, "w") as file:
                json.dump(self.summary(), file)
            os.replace(temporary, self.path)
        except OSError:
            pass  # a report is a help, never a reason for the server to fail
