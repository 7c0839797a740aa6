#!/usr/bin/env bash
# The one-machine default, as `make run` starts it. Today: a mock GPU inventory for a node
# "node-a", a launcher running the fake vLLM from a warm zygote (GPU UUIDs translated by that
# inventory), and the demo service on a Unix socket and a TCP port with a fresh token. It prints
# how to call each with every client and serves until Ctrl-C, then stops what it started.
# (The one-machine cluster, fma-devcluster, replaces this in a later release.)
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

rm -f "$run_dir/gpus.ready" "$run_dir/launcher.ready"
"$bin/fma-gpu-inventory" node --mock 4 --node-name node-a --listen "unix:$run_dir/gpus.sock" \
  --ready-file "$run_dir/gpus.ready" &
gpus=$!
"$bin/fma-demo" --listen "unix:$run_dir/demo.sock" --listen "tcp://127.0.0.1:${FMA_PORT:-0}" \
  --token-file "$token_file" --metrics-listen tcp://127.0.0.1:0 --ready-file "$run_dir/ready" &
demo=$!
trap 'kill -TERM $demo $gpus ${launcher:-} 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
for _ in $(seq 200); do [ -f "$run_dir/gpus.ready" ] && break; sleep 0.05; done
"$bin/fma-launcher" serve --listen "unix:$run_dir/launcher.sock" --state-dir "$run_dir/launcher" \
  --python-path "$root/python" --entrypoint fma_fakevllm --preload fma_fakevllm.server \
  --gpu-inventory "unix:$run_dir/gpus.sock" --rest-port 0 --ready-file "$run_dir/launcher.ready" &
launcher=$!

for _ in $(seq 200); do
  [ -f "$run_dir/ready" ] && break
  kill -0 $demo 2>/dev/null || { echo "run: fma-demo exited; see the messages above" >&2; exit 1; }
  sleep 0.05
done
[ -f "$run_dir/ready" ] || { echo "run: fma-demo did not become ready within 10 s" >&2; exit 1; }
for _ in $(seq 600); do [ -f "$run_dir/launcher.ready" ] && break; sleep 0.05; done
[ -f "$run_dir/launcher.ready" ] || { echo "run: fma-launcher did not become ready within 30 s" >&2; exit 1; }
rest=$(grep '^http://' "$run_dir/launcher.ready" | head -1)
unix=$(sed -n 1p "$run_dir/ready")
tcp=$(sed -n 2p "$run_dir/ready")
metrics=$(sed -n 3p "$run_dir/ready")

cat <<MSG

fma-demo is serving (pid $demo):
  $unix        (no token needed)
  $tcp         (bearer token in $token_file)
  $metrics     (Prometheus)

fma-launcher (pid $launcher): unix:$run_dir/launcher.sock, FMA's REST API at $rest
fma-gpu-inventory (pid $gpus): unix:$run_dir/gpus.sock, 4 mock GPUs of node-a

Call them from another terminal:
  $bin/fmactl gpus list unix:$run_dir/gpus.sock
  $bin/fmactl launcher create unix:$run_dir/launcher.sock --id demo --wait -- --host 127.0.0.1 --port 8005
  $bin/fmactl launcher list unix:$run_dir/launcher.sock
  $bin/fmactl launcher sleep unix:$run_dir/launcher.sock demo
  curl -s $rest/v2/vllm/instances
  $bin/fmactl health $unix
  $bin/fmactl health $tcp --token-file $token_file
  $bin/fma-health --stream-count 3 $unix
  PYTHONPATH=$root/python python3 -m fma echo $unix hello
  curl -s $metrics | head

Ctrl-C stops it.
MSG
wait $demo
