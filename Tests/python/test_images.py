"""deploy/images: the Containerfiles are checked without an engine. Every base image is named
with a registry and a version tag (never `latest`, never untagged) or a digest; every file a
runtime stage copies exists (a binary the build stage makes is a product of Package.swift and is
built by `make build`; a source path is in the repository); and the packages a runtime stage
installs provide every shared library its binaries link (readelf NEEDED on the built binaries,
mapped to Debian packages with dpkg -S; the Swift runtime is linked statically in the images)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGES = sorted((REPO / "deploy" / "images").glob("*.Containerfile"))
#: Libraries the images get from the Swift toolchain (--static-swift-stdlib) or from every base.
STATIC_OR_BASE = re.compile(r"^(libswift.*|libFoundation.*|lib_Foundation.*|libdispatch|libBlocksRuntime|"
                            r"libc|libm|libdl|libpthread|librt|ld-linux.*)\.so")
#: Packages of every Debian and Ubuntu base image (Essential: yes).
ESSENTIAL = {"libc6", "libgcc-s1"}


@dataclass
class Stage:
    base: str
    name: str | None
    installs: set[str] = field(default_factory=set)
    copies: list[tuple[str | None, str]] = field(default_factory=list)  # (from stage, source)
    builds: set[str] = field(default_factory=set)


def parse(path: Path) -> list[Stage]:
    text = re.sub(r"\\\n", " ", path.read_text())
    stages: list[Stage] = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        instruction = words[0].upper()
        if instruction == "FROM":
            name = words[3] if len(words) >= 4 and words[2].upper() == "AS" else None
            stages.append(Stage(base=words[1], name=name))
        elif instruction == "RUN":
            for match in re.finditer(r"apt-get install ((?:-\S+\s+)*)([^&;]+)", line):
                stages[-1].installs |= {w for w in match.group(2).split() if not w.startswith("-")}
            stages[-1].builds |= set(re.findall(r"--product (\S+)", line))
        elif instruction == "COPY":
            source_from = next((w.split("=", 1)[1] for w in words[1:] if w.startswith("--from=")), None)
            sources = [w for w in words[1:-1] if not w.startswith("--")]
            stages[-1].copies += [(source_from, s) for s in sources]
    return stages


def products() -> set[str]:
    return set(re.findall(r'\.executable\(name: "([^"]+)"', (REPO / "Package.swift").read_text()))


def bin_dir() -> Path:
    return Path(os.environ.get("FMA_BIN_DIR", REPO / ".build" / "debug"))


def test_there_are_images_for_the_controller_the_gpu_inventory_and_the_launcher():
    assert [p.name for p in IMAGES] == ["controller.Containerfile", "gpu-inventory.Containerfile", "launcher.Containerfile"]
    ignored = (REPO / ".containerignore").read_text().split()
    assert ".build" in ignored and ".git" in ignored


@pytest.mark.parametrize("path", IMAGES, ids=lambda p: p.name)
def test_base_images_are_pinned(path):
    for stage in parse(path):
        reference = stage.base
        assert "/" in reference and "." in reference.split("/")[0], f"{reference}: name the registry"
        if "@sha256:" in reference:
            assert re.fullmatch(r".+@sha256:[0-9a-f]{64}", reference), reference
            continue
        assert ":" in reference.rsplit("/", 1)[1], f"{reference}: untagged"
        tag = reference.rsplit(":", 1)[1]
        assert tag != "latest" and re.search(r"\d|bookworm|bullseye|jammy|noble", tag), f"{reference}: a version tag"


@pytest.mark.parametrize("path", IMAGES, ids=lambda p: p.name)
def test_what_the_images_copy_exists(path):
    stages = parse(path)
    known = products()
    built = set().union(*(s.builds for s in stages))
    assert built <= known, built - known
    for stage in stages:
        for source_from, source in stage.copies:
            if source_from is None:
                if source != ".":
                    assert (REPO / source).exists(), f"{path.name}: {source} is not in the repository"
                continue
            product = Path(source).name
            assert source.startswith("/src/.build/release/"), source
            assert product in built, f"{path.name}: {product} is copied but not built"
            if (bin_dir() / "fma-controller").exists():
                assert (bin_dir() / product).exists(), f"{product} is not built by make build"


def needed_libraries(binary: Path) -> set[str]:
    out = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


def package_of(library: str) -> str:
    out = subprocess.run(["dpkg", "-S", f"*/{library}"], capture_output=True, text=True)
    assert out.returncode == 0, f"no Debian package provides {library}"
    return out.stdout.split(":", 1)[0].strip()


@pytest.mark.skipif(shutil.which("dpkg") is None or shutil.which("readelf") is None, reason="needs dpkg and readelf")
@pytest.mark.parametrize("path", IMAGES, ids=lambda p: p.name)
def test_runtime_packages_provide_what_the_binaries_link(path):
    if not (bin_dir() / "fma-controller").exists():
        if os.environ.get("FMA_BIN_DIR"):
            pytest.fail(f"{bin_dir()} has no fma-controller")
        pytest.skip("the executables are not built")
    runtime = parse(path)[-1]
    checked = 0
    for source_from, source in runtime.copies:
        if source_from is None:
            continue
        for library in sorted(needed_libraries(bin_dir() / Path(source).name)):
            if STATIC_OR_BASE.match(library):
                continue
            package = package_of(library)
            assert package in runtime.installs | ESSENTIAL, \
                f"{path.name}: {Path(source).name} links {library} (Debian package {package}), which the image does not install"
            checked += 1
    assert checked >= 1
