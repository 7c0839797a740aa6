"""Source modules compiled once in the zygote, so that no instance compiles them again.

Without readable ``.pyc`` files (``PYTHONDONTWRITEBYTECODE=1``, as many container images set,
or a read-only site directory), every import in an instance compiles the module's source again,
in every instance. The zygote cannot import what the entry point imports only when it runs
(an import has side effects, and what is safe before a fork is the operator's ``--preload``
list), but it can *compile* those modules: compiling runs nothing. So, before the first fork
that runs an entry point, the zygote finds the modules the entry point's code names in its
import statements (also inside functions), and the modules those name, without importing
anything; compiles each source module not yet imported; and keeps the code objects. Every
child inherits them, and its source loader takes a module's code object from here when the
file is unchanged (same size and modification time) instead of compiling it.
"""

from __future__ import annotations

import dis
import importlib.machinery
import os
import sys
import types

# How far the import statements are followed from the entry point, and how many modules at most.
MAX_DEPTH = 2
MAX_MODULES = 256

# path -> (st_mtime_ns, st_size, code object)
_compiled: dict[str, tuple[int, int, types.CodeType]] = {}
_original_get_code = importlib.machinery.SourceFileLoader.get_code


def _get_code(self: importlib.machinery.SourceFileLoader, fullname: str) -> types.CodeType | None:
    entry = _compiled.pop(self.path, None)
    if entry is not None:
        try:
            status = os.stat(self.path)
        except OSError:
            status = None
        if status is not None and (status.st_mtime_ns, status.st_size) == entry[:2]:
            return entry[2]
    return _original_get_code(self, fullname)


def imported_names(code: types.CodeType, package: str | None) -> list[str]:
    """The absolute module names `code`'s import statements name, nested code included (with
    ``package.name`` for each ``from package import name``, which may be a submodule)."""
    names: list[str] = []
    stack = [code]
    while stack:
        current = stack.pop()
        level = 0
        last = None
        for instruction in dis.get_instructions(current):
            if instruction.opname == "LOAD_CONST" and isinstance(instruction.argval, int):
                level = instruction.argval
            elif instruction.opname == "IMPORT_NAME":
                name = instruction.argval
                if level > 0 and package:
                    base = package.rsplit(".", level - 1)[0] if level > 1 else package
                    name = f"{base}.{name}" if name else base
                last = name if level == 0 or package else None
                if last:
                    names.append(last)
            elif instruction.opname == "IMPORT_FROM" and last:
                # `from package import name` may name a submodule.
                names.append(f"{last}.{instruction.argval}")
        stack.extend(const for const in current.co_consts if isinstance(const, types.CodeType))
    return names


def _unimported_specs(name: str) -> list[importlib.machinery.ModuleSpec]:
    """The specs of `name` and of its packages that are not imported yet, found without
    importing anything (a package's ``__init__`` is not run to find its submodules)."""
    specs = []
    path = None
    parts = name.split(".")
    for index in range(len(parts)):
        qualified = ".".join(parts[: index + 1])
        module = sys.modules.get(qualified)
        if module is not None:
            path = getattr(module, "__path__", None)
        else:
            try:
                spec = importlib.machinery.PathFinder.find_spec(qualified, path)
            except (ImportError, ValueError, OSError):
                return specs
            if spec is None:
                return specs
            specs.append(spec)
            path = spec.submodule_search_locations
        if path is None and index < len(parts) - 1:
            return specs
    return specs


def compile_imports_of(code: types.CodeType, package: str | None) -> int:
    """Compiles the source modules `code` imports (and, to MAX_DEPTH, theirs) that are not
    imported yet, and has children's source loaders use them. Returns how many were compiled."""
    pending = [(name, 1) for name in imported_names(code, package)]
    seen: set[str] = set()
    count = 0
    while pending and len(_compiled) < MAX_MODULES:
        name, depth = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        for spec in _unimported_specs(name):
            loader = spec.loader
            if not isinstance(loader, importlib.machinery.SourceFileLoader) or spec.origin in _compiled:
                continue
            try:
                status = os.stat(spec.origin)
                compiled = compile(loader.get_data(spec.origin), spec.origin, "exec", dont_inherit=True)
            except (OSError, SyntaxError, ValueError):
                continue  # the child's import says what is wrong
            _compiled[spec.origin] = (status.st_mtime_ns, status.st_size, compiled)
            count += 1
            if depth < MAX_DEPTH:
                package_name = spec.name if spec.submodule_search_locations is not None else spec.parent
                pending.extend((imported, depth + 1) for imported in imported_names(compiled, package_name))
    if _compiled:
        importlib.machinery.SourceFileLoader.get_code = _get_code
    return count
