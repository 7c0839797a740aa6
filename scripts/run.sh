#!/usr/bin/env bash
# The one-machine default, as `make run` starts it. Today: the demo service on a Unix socket and
# a TCP port, with a fresh token; it prints how to call it with each client and serves until
# Ctrl-C, then stops what it started. (The one-machine cluster replaces this in a later issue.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${FMA_BIN_DIR:-$root/.build/debug}
run_dir=${FMA_RUN_DIR:-/tmp/fma-run}
mkdir -p "$run_dir"
chmod 700 "$run_dir"

token_file="$run_dir/token"
if [ ! -s "$token_file" ]; then
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$token_file"
  chmod 600 "$token_file"
fi
rm -f "$run_dir/ready"

"$bin/fma-demo" --listen "unix:$run_dir/demo.sock" --listen "tcp://127.0.0.1:${FMA_PORT:-0}" \
  --token-file "$token_file" --metrics-listen tcp://127.0.0.1:0 --ready-file "$run_dir/ready" &
demo=$!
trap 'kill -TERM $demo 2>/dev/null; wait $demo 2>/dev/null' EXIT INT TERM

for _ in $(seq 200); do
  [ -f "$run_dir/ready" ] && break
  kill -0 $demo 2>/dev/null || { echo "run: fma-demo exited; see the messages above" >&2; exit 1; }
  sleep 0.05
done
[ -f "$run_dir/ready" ] || { echo "run: fma-demo did not become ready within 10 s" >&2; exit 1; }
unix=$(sed -n 1p "$run_dir/ready")
tcp=$(sed -n 2p "$run_dir/ready")
metrics=$(sed -n 3p "$run_dir/ready")

cat <<MSG

fma-demo is serving (pid $demo):
  $unix        (no token needed)
  $tcp         (bearer token in $token_file)
  $metrics     (Prometheus)

Call it from another terminal:
  $bin/fmactl health $unix
  $bin/fmactl health $tcp --token-file $token_file
  $bin/fma-health --stream-count 3 $unix
  PYTHONPATH=$root/python python3 -m fma echo $unix hello
  curl -s $metrics | head

Ctrl-C stops it.
MSG
wait $demo
