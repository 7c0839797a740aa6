#!/usr/bin/env bash
# Builds the C client library (Sources/CFMAClient), the fma-health tool and the C tests
# (Tests/CClient/*.c) with plain cc into build/c/, then runs the tests. When the demo server has
# been built (.build/debug/fma-demo, or $FMA_BIN_DIR/fma-demo), fma-health is also checked
# against it end to end. Ends with "c-tests: N passed, M failed" and a non-zero status on any
# failure.
#
#   scripts/test-c.sh              build and test
#   scripts/test-c.sh --lint-only  only build (every warning is an error)
#
# Environment: CC (default cc), CFLAGS and LDFLAGS (added, e.g. for a Homebrew protobuf-c),
# FMA_GOLDEN_DIR (default Tests/Golden), FMA_BIN_DIR (default .build/debug).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

lint_only=0
case "${1:-}" in
  --lint-only) lint_only=1 ;;
  "") ;;
  *) echo "usage: scripts/test-c.sh [--lint-only]" >&2; exit 64 ;;
esac

cc=${CC:-cc}
cflags=(-std=c11 -Wall -Wextra -Werror -O1 -g -ISources/CFMAClient/include)
libs=(-lprotobuf-c)
# shellcheck disable=SC2206 # CFLAGS and LDFLAGS are lists of words
if [ -n "${CFLAGS:-}" ]; then cflags+=($CFLAGS); fi
# shellcheck disable=SC2206
if [ -n "${LDFLAGS:-}" ]; then libs=($LDFLAGS "${libs[@]}"); fi
out=build/c
mkdir -p "$out/obj" "$out/tests"

# ---- build ----

objects=()
for source in Sources/CFMAClient/*.c Sources/CFMAClient/generated/*.c; do
  case "$source" in
    */generated/*) object="$out/obj/generated-$(basename "${source%.c}").o" ;;
    *) object="$out/obj/$(basename "${source%.c}").o" ;;
  esac
  "$cc" "${cflags[@]}" -c "$source" -o "$object"
  objects+=("$object")
done
rm -f "$out/libfmaclient.a"
ar rcs "$out/libfmaclient.a" "${objects[@]}"

"$cc" "${cflags[@]}" Sources/fma-health/main.c "$out/libfmaclient.a" "${libs[@]}" \
  -o "$out/fma-health"

tests=()
for source in Tests/CClient/*.c; do
  binary="$out/tests/$(basename "${source%.c}")"
  "$cc" "${cflags[@]}" -pthread -ITests/CClient "$source" "$out/libfmaclient.a" "${libs[@]}" \
    -o "$binary"
  tests+=("$binary")
done

if [ "$lint_only" = 1 ]; then
  echo "c-lint: library, fma-health and ${#tests[@]} test programs compile without warnings"
  exit 0
fi

# ---- unit tests: Tests/CClient/test_*.c ----

passed=0
failed=0

# run_test_program BINARY: runs it, shows its output and counts its "ok - " / "not ok - " lines;
# a program that fails without saying which test (a crash) counts as one failure.
run_test_program() {
  local binary=$1 output status=0 ok not_ok
  output=$("$binary" 2>&1) || status=$?
  printf '%s\n' "$output"
  ok=$(grep -c '^ok - ' <<<"$output" || true)
  not_ok=$(grep -c '^not ok - ' <<<"$output" || true)
  passed=$((passed + ok))
  failed=$((failed + not_ok))
  if [ "$status" -ne 0 ] && [ "$not_ok" -eq 0 ]; then
    echo "not ok - $(basename "$binary") exited with status $status"
    failed=$((failed + 1))
  fi
}

export FMA_GOLDEN_DIR=${FMA_GOLDEN_DIR:-$root/Tests/Golden}
for binary in "${tests[@]}"; do
  case "$(basename "$binary")" in
    test_*) run_test_program "$binary" ;;
  esac
done

# ---- end to end, against the demo server when it has been built: fma-health, and the
# ---- library through Tests/CClient/e2e_*.c ----

demo=${FMA_BIN_DIR:-$root/.build/debug}/fma-demo
health=$out/fma-health

# e2e NAME EXPECTED_STATUS EXPECTED_OUTPUT_GLOB COMMAND...: runs COMMAND (stdout and stderr
# together) and compares.
e2e() {
  local name=$1 want_status=$2 want_output=$3
  shift 3
  local output status=0
  output=$("$@" 2>&1) || status=$?
  # shellcheck disable=SC2053 # the expected output is a glob pattern
  if [ "$status" = "$want_status" ] && [[ "$output" == $want_output ]]; then
    echo "ok - e2e: $name"
    passed=$((passed + 1))
  else
    echo "not ok - e2e: $name"
    echo "#   expected status $want_status and output matching: $want_output"
    echo "#   got status $status and output: $output"
    failed=$((failed + 1))
  fi
}

run_e2e() {
  local dir demo_pid unix_address tcp_address serving
  dir=$(mktemp -d /tmp/fma-c-e2e.XXXXXX)
  printf 'e2e-token\n' >"$dir/token"
  printf 'wrong-token\n' >"$dir/wrong-token"
  "$demo" --listen "unix:$dir/demo.sock" --listen tcp://127.0.0.1:0 \
    --token-file "$dir/token" --ready-file "$dir/ready" >"$dir/demo.log" 2>&1 &
  demo_pid=$!
  # shellcheck disable=SC2064 # expand now: the trap must stop this demo and remove this dir
  trap "kill $demo_pid 2>/dev/null || true; rm -rf '$dir'" EXIT
  for _ in $(seq 100); do
    [ -s "$dir/ready" ] && [ "$(wc -l <"$dir/ready")" -ge 2 ] && break
    kill -0 "$demo_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -s "$dir/ready" ] || [ "$(wc -l <"$dir/ready")" -lt 2 ]; then
    echo "not ok - e2e: fma-demo did not become ready; its log:"
    sed 's/^/#   /' "$dir/demo.log"
    failed=$((failed + 1))
    return
  fi
  unix_address=$(sed -n 1p "$dir/ready")
  tcp_address=$(sed -n 2p "$dir/ready")

  serving="SERVING component=* version=* uptime_ms=* services=*fma.v1.Health*"
  e2e "health over unix needs no token" 0 "$serving" \
    "$health" "$unix_address"
  e2e "health over tcp with --token-file" 0 "SERVING component=*" \
    "$health" --token-file "$dir/token" "$tcp_address"
  e2e "health over tcp with FMA_TOKEN" 0 "SERVING component=*" \
    env FMA_TOKEN=e2e-token "$health" "$tcp_address"
  e2e "health over tcp without a token" 2 "fma-health: UNAUTHENTICATED: missing bearer token" \
    env -u FMA_TOKEN "$health" "$tcp_address"
  e2e "health over tcp with a wrong token" 2 "fma-health: UNAUTHENTICATED: invalid bearer token" \
    "$health" --token-file "$dir/wrong-token" "$tcp_address"
  e2e "health of one service" 0 "SERVING *" \
    "$health" --service fma.v1.Demo "$unix_address"
  e2e "health of an unknown service" 2 "fma-health: NOT_FOUND: *" \
    "$health" --service fma.v1.Nope "$unix_address"
  e2e "echo" 0 "hello, fma" \
    "$health" --echo "hello, fma" "$unix_address"
  e2e "echo over tcp" 0 "over tcp" \
    "$health" --token e2e-token --echo "over tcp" "$tcp_address"
  e2e "stream count" 0 $'0\n1\n2\nstream ended: OK' \
    "$health" --stream-count 3 "$unix_address"
  e2e "empty stream" 0 "stream ended: OK" \
    "$health" --stream-count 0 "$unix_address"

  for binary in "${tests[@]}"; do
    case "$(basename "$binary")" in
      e2e_*)
        FMA_E2E_UNIX=$unix_address FMA_E2E_TCP=$tcp_address FMA_E2E_TOKEN=e2e-token \
          run_test_program "$binary"
        ;;
    esac
  done

  kill "$demo_pid" 2>/dev/null || true
  wait "$demo_pid" 2>/dev/null || true
  rm -rf "$dir"
  trap - EXIT
}

if [ -x "$demo" ]; then
  run_e2e
else
  echo "# $demo not built: end-to-end checks skipped (make build first)"
fi

echo "c-tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
