#!/usr/bin/env bash
# Fails when the committed generated code differs from what `make proto` would produce now.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$root/scripts/gen-proto.sh" "$scratch"
status=0
for dir in Sources/FMAWire/Generated Sources/CFMAClient/include/fma Sources/CFMAClient/generated python/fma/v1; do
  if ! diff -r -x __pycache__ "$root/$dir" "$scratch/$dir" >/dev/null; then
    echo "check-generated: $dir differs from what 'make proto' generates from proto/:" >&2
    diff -r -x __pycache__ "$root/$dir" "$scratch/$dir" | head -20 >&2 || true
    status=1
  fi
done
[ $status -eq 0 ] && echo "check-generated: generated code matches proto/"
exit $status
