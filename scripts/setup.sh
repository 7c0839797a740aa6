#!/usr/bin/env bash
# Installs what building and testing fma needs on a Debian machine. Idempotent: skips what is
# already there, so `make test` and `make run` can call it every time at almost no cost.
set -euo pipefail

need_debs=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_deb() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

have_cmd protoc   || need_debs+=(protobuf-compiler)
have_cmd protoc-c || need_debs+=(protobuf-c-compiler)
have_deb libprotobuf-c-dev    || need_debs+=(libprotobuf-c-dev)
have_deb libcurl4-openssl-dev || need_debs+=(libcurl4-openssl-dev)
have_deb libssl-dev           || need_debs+=(libssl-dev)
have_cmd kubectl  || need_debs+=(kubernetes-client)
have_cmd systemd-analyze || need_debs+=(systemd)   # checks deploy/systemd

if [ ${#need_debs[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_debs[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_debs[@]}"
fi

python=${PYTHON:-python3}
# pip_need MODULES REQUIREMENT: installs REQUIREMENT unless `import MODULES` already works.
pip_need() {
  if ! "$python" -c "import $1" >/dev/null 2>&1; then
    echo "setup: installing $2 for $("$python" -c 'import sys; print(sys.executable)')"
    "$python" -m pip install --quiet --disable-pip-version-check "$2"
  fi
}
pip_need google.protobuf 'protobuf>=4.21'
# h2: the HTTP/2-only server of the HTTP client's tests.
pip_need h2 'h2>=4.1'
# kubernetes: the official client, which checks fma-devcluster from outside in the tests.
pip_need kubernetes 'kubernetes>=29'
# kubernetes-validate (Kubernetes' own schemas, with jsonschema) and cel-python (a CEL
# implementation): deploy/'s manifests and admission policies are checked with them.
pip_need 'kubernetes_validate, jsonschema' 'kubernetes-validate>=1.31'
pip_need celpy 'cel-python>=0.2'
echo "setup: ok"
