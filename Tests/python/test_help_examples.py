"""Every fmactl subcommand's --help carries an example, and every flag an example uses is one the
subcommand has (so the examples are not stale)."""

from __future__ import annotations

import re
import subprocess

from conftest import project_binary


def help_text(*words: str) -> str:
    return subprocess.run([str(project_binary("fmactl")), *words, "--help"], capture_output=True, text=True, timeout=30).stdout


def subcommands(*words: str) -> list[str]:
    text = help_text(*words)
    if "SUBCOMMANDS:" not in text:
        return []
    listed = text.split("SUBCOMMANDS:", 1)[1].split("See 'fmactl help", 1)[0]
    return [line.split()[0] for line in listed.splitlines() if re.match(r"^  \S", line)]


def leaves(*words: str) -> list[tuple[str, ...]]:
    children = subcommands(*words)
    if not children:
        return [words]
    return [leaf for child in children for leaf in leaves(*words, child)]


def test_every_fmactl_subcommand_has_an_example_using_only_its_own_flags() -> None:
    found = leaves()
    assert len(found) >= 15, found
    for words in found:
        text = help_text(*words)
        assert re.search(r"^Examples?:$", text, re.M), f"fmactl {' '.join(words)} --help has no example"
        examples = text.split("USAGE:", 1)[0].split("Example", 1)[1]
        usage = text.split("USAGE:", 1)[1]
        # Lines folded by the help formatter belong to the example before them.
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", examples.split(" -- ")[0] if " -- " in examples else examples):
            assert flag in usage, f"fmactl {' '.join(words)}: its example uses {flag}, which it does not have"
