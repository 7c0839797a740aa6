#!/usr/bin/env bash
# Generates the Swift, C and Python bindings of proto/ into OUT (default: the repository), at
# the paths the build expects. `make proto` runs it on the repository; `make check-generated`
# runs it on a scratch folder and compares, so committed code never drifts from proto/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root}
cd "$root"

plugin="$root/.build-protoc/release/protoc-gen-swift"
if [ ! -x "$plugin" ]; then
  echo "gen-proto: building protoc-gen-swift from the pinned swift-protobuf (about a minute, once)"
  swift build -c release --package-path scripts/protoc-gen-swift --product protoc-gen-swift \
    --scratch-path "$root/.build-protoc" >/dev/null
fi

protos=$(cd proto && find . -name '*.proto' | sed 's|^\./||' | sort)

swift_out="$out/Sources/FMAWire/Generated"
c_tmp=$(mktemp -d)
c_headers="$out/Sources/CFMAClient/include"
c_sources="$out/Sources/CFMAClient/generated"
py_out="$out/python"
trap 'rm -rf "$c_tmp"' EXIT

rm -rf "$swift_out" "$c_headers/fma" "$c_sources" "$py_out/fma/v1"/*_pb2.py
mkdir -p "$swift_out" "$c_headers" "$c_sources" "$py_out/fma/v1"

# Swift: public types (other targets use them), one file per proto named after it.
protoc -I proto --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Public --swift_opt=FileNaming=DropPath --swift_opt=UseAccessLevelOnImports=true \
  --swift_out="$swift_out" $protos

# C: headers are public (include/fma/v1/*.pb-c.h); sources compile inside the target.
protoc-c -I proto --c_out="$c_tmp" $protos
(cd "$c_tmp" && find . -name '*.h' | while read -r h; do
  mkdir -p "$c_headers/$(dirname "$h")"; cp "$h" "$c_headers/$h"; done)
(cd "$c_tmp" && find . -name '*.c' | while read -r c; do cp "$c" "$c_sources/$(basename "$c")"; done)

# Python: modules fma.v1.*_pb2 beside the client in python/fma.
protoc -I proto --python_out="$py_out" $protos
touch "$py_out/fma/v1/__init__.py"
