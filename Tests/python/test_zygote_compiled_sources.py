"""The zygote's compile cache: what an entry point imports is compiled, never imported, and a
child's import takes the compiled code unless the file changed."""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from fma_zygote import compiled_sources


@pytest.fixture()
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "site"
    (root / "zpkg" / "sub").mkdir(parents=True)
    (root / "zpkg" / "__init__.py").write_text("INIT_RAN = True\n")
    (root / "zpkg" / "sub" / "__init__.py").write_text("")
    (root / "zpkg" / "sub" / "leaf.py").write_text("from . import sibling\nVALUE = 'leaf'\n")
    (root / "zpkg" / "sub" / "sibling.py").write_text("VALUE = 'sibling'\n")
    (root / "zpkg" / "entry.py").write_text(textwrap.dedent("""
        import json

        def main():
            from zpkg.sub.leaf import VALUE
            return VALUE
    """))
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr(compiled_sources, "_compiled", {})
    monkeypatch.setattr(importlib.machinery.SourceFileLoader, "get_code", compiled_sources._original_get_code)
    yield root
    for name in [name for name in sys.modules if name == "zpkg" or name.startswith("zpkg.")]:
        del sys.modules[name]


def entry(root: Path):
    source = (root / "zpkg" / "entry.py").read_text()
    return compile(source, str(root / "zpkg" / "entry.py"), "exec")


def test_names_in_functions_and_relative_imports_are_found(packages: Path) -> None:
    names = compiled_sources.imported_names(entry(packages), "zpkg")
    assert sorted(names) == ["json", "zpkg.sub.leaf", "zpkg.sub.leaf.VALUE"]
    leaf = compile((packages / "zpkg/sub/leaf.py").read_text(), "leaf.py", "exec")
    assert compiled_sources.imported_names(leaf, "zpkg.sub") == ["zpkg.sub", "zpkg.sub.sibling"]


def test_compiles_without_importing_and_the_import_takes_the_code(packages: Path) -> None:
    count = compiled_sources.compile_imports_of(entry(packages), "zpkg")
    # zpkg, zpkg.sub, zpkg.sub.leaf and (one level further) zpkg.sub.sibling; json is imported already.
    assert count == 4
    assert not any(name == "zpkg" or name.startswith("zpkg.") for name in sys.modules), "nothing is imported"
    leaf_path = str(packages / "zpkg" / "sub" / "leaf.py")
    assert leaf_path in compiled_sources._compiled
    module = importlib.import_module("zpkg.sub.leaf")
    assert module.VALUE == "leaf" and sys.modules["zpkg"].INIT_RAN
    assert leaf_path not in compiled_sources._compiled, "the import took the compiled code"


def test_a_changed_file_is_compiled_again(packages: Path) -> None:
    compiled_sources.compile_imports_of(entry(packages), "zpkg")
    leaf = packages / "zpkg" / "sub" / "leaf.py"
    leaf.write_text("from . import sibling\nVALUE = 'changed and longer'\n")
    os.utime(leaf, ns=(leaf.stat().st_atime_ns, leaf.stat().st_mtime_ns + 1_000_000_000))
    assert importlib.import_module("zpkg.sub.leaf").VALUE == "changed and longer"
