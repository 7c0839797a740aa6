#!/usr/bin/env bash
# The opt-in check of fma-launcher's defaults against the real vLLM from PyPI (not part of
# `make test`). It
#
#   1. makes (or reuses) a venv in .build/vllm-venv and installs the pinned vllm with the torch
#      vllm pins: the wheels are downloaded first into .build/vllm-wheels (timed, their size
#      measured), then installed from there with no index (timed); the figures are kept in
#      .build/vllm-venv/fma-install.json and reported again when the venv is reused;
#   2. builds a tiny random-weight Llama model and its tokenizer in .build/vllm-model
#      (transformers, safetensors, tokenizers; nothing downloaded);
#   3. runs scripts/vllm_check.py with the venv's python: fma-launcher serve with its defaults
#      (no --entrypoint, no --preload), one instance of the tiny model followed to its end (on a
#      machine without a GPU: vLLM's own "no device" error and a STOPPED event), its preload gap
#      against a budget, and the same `vllm serve` started cold for comparison.
#
# At run time (step 3) nothing is downloaded: HF_HUB_OFFLINE=1, TRANSFORMERS_OFFLINE=1, and
# the instances listen on loopback only.
#
#   scripts/test-vllm.sh                 install if needed, build the model if needed, check
#   scripts/test-vllm.sh --install-only  steps 1 and 2 only
#
# Environment: FMA_VLLM_VERSION (default below), FMA_VLLM_PYTHON (the interpreter the venv is
# made from; default python3), FMA_BIN_DIR (default .build/debug), FMA_VLLM_GAP_BUDGET_MS
# (default 100), FMA_VLLM_TIMEOUT (seconds each start may take; default 600).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# 0.34.0, the newest, cannot be installed from PyPI: it pins flashinfer-python==0.7.3, which
# PyPI does not have. 0.33.0 pins torch==2.14.0 (the CUDA build from PyPI, with its nvidia-*
# wheels).
vllm_version=${FMA_VLLM_VERSION:-0.33.0}
base_python=${FMA_VLLM_PYTHON:-python3}
venv=.build/vllm-venv
wheels=.build/vllm-wheels
model=.build/vllm-model
bin_dir=${FMA_BIN_DIR:-.build/debug}
install_only=0
case "${1:-}" in
  --install-only) install_only=1 ;;
  "") ;;
  *) echo "usage: scripts/test-vllm.sh [--install-only]" >&2; exit 64 ;;
esac

for tool in fma-launcher fmactl; do
  [ -x "$bin_dir/$tool" ] || { echo "test-vllm: $bin_dir/$tool is missing (make build)" >&2; exit 1; }
done

# vllm from PyPI only: the local wheel directory (PIP_FIND_LINKS) holds a CPU torch that is not
# the one vllm pins.
export PIP_FIND_LINKS=
export PIP_DISABLE_PIP_VERSION_CHECK=1

now() { date +%s.%N; }

installed_version() {
  [ -x "$venv/bin/python" ] || return 0
  "$venv/bin/python" - <<'EOF' 2>/dev/null || true
from importlib.metadata import version
print(version("vllm"))
EOF
}

if [ "$(installed_version)" != "$vllm_version" ]; then
  echo "test-vllm: installing vllm==$vllm_version into $venv"
  [ -x "$venv/bin/python" ] || "$base_python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  rm -rf "$wheels"
  mkdir -p "$wheels"
  started=$(now)
  "$venv/bin/python" -m pip download -q -d "$wheels" "vllm==$vllm_version"
  downloaded=$(now)
  "$venv/bin/python" -m pip install -q --no-index --find-links "$wheels" "vllm==$vllm_version"
  finished=$(now)
  download_bytes=$(du -sb "$wheels" | cut -f1)
  venv_bytes=$(du -sb "$venv" | cut -f1)
  files=$(find "$wheels" -type f | wc -l)
  "$venv/bin/python" - "$venv/fma-install.json" "$vllm_version" "$download_bytes" "$files" \
      "$started" "$downloaded" "$finished" "$venv_bytes" <<'EOF'
import json, sys
path, version, size, files, started, downloaded, finished, venv_bytes = sys.argv[1:]
json.dump({"vllm": version, "download_bytes": int(size), "download_files": int(files),
           "download_seconds": float(downloaded) - float(started),
           "install_seconds": float(finished) - float(downloaded),
           "venv_bytes": int(venv_bytes)}, open(path, "w"), indent=2)
EOF
  # The wheels are not needed once installed.
  rm -rf "$wheels"
else
  echo "test-vllm: reusing $venv (vllm $vllm_version)"
fi

# The tiny model: built once, offline.
if [ ! -f "$model/config.json" ]; then
  echo "test-vllm: building the tiny model in $model"
  HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$venv/bin/python" scripts/vllm_check.py --build-model "$model"
fi

[ "$install_only" = 1 ] && exit 0

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
export VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 VLLM_DO_NOT_TRACK=1
check=("$venv/bin/python" scripts/vllm_check.py)
# Loopback only, enforced where this user can make a network namespace (root, or user
# namespaces): nothing in it reaches beyond 127.0.0.1.
if unshare -n true 2>/dev/null && command -v ip >/dev/null; then
  echo "test-vllm: running in a network namespace with loopback only"
  check=(unshare -n sh -c 'ip link set lo up && exec "$@"' sh "${check[@]}")
else
  echo "test-vllm: cannot make a network namespace here; relying on HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE"
fi
exec "${check[@]}" \
  --root "$root" --bin-dir "$bin_dir" --venv "$venv" --model "$model" \
  --install-report "$venv/fma-install.json" \
  --gap-budget-ms "${FMA_VLLM_GAP_BUDGET_MS:-100}" --timeout "${FMA_VLLM_TIMEOUT:-600}"
