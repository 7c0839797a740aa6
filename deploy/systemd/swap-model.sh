#!/usr/bin/env bash
# One GPU box, several models, one awake at a time: every other awake instance is put to sleep
# (its weights go to host memory, its GPU memory is freed), then NAME is woken, or created first
# (forked from the zygote that imported vLLM: a warm start; a wake is a hot start, seconds).
# With the units of this directory running:
#   deploy/systemd/swap-model.sh granite --model ibm-granite/granite-3.3-2b-instruct --port 8000 --enable-sleep-mode
#   deploy/systemd/swap-model.sh qwen --model Qwen/Qwen3-8B --port 8001 --enable-sleep-mode
#   deploy/systemd/swap-model.sh granite      # wakes granite, qwen sleeps
# Environment: FMA_LAUNCHER (default unix:/run/fma-launcher/launcher.sock), FMACTL (fmactl),
# FMA_GPUS (GPU UUIDs, comma-separated; default: every GPU of unix:/run/fma/gpu-inventory.sock).
set -euo pipefail
launcher=${FMA_LAUNCHER:-unix:/run/fma-launcher/launcher.sock}
fmactl=${FMACTL:-fmactl}
[ $# -ge 1 ] || { echo "usage: $0 NAME [VLLM OPTIONS…]" >&2; exit 64; }
name=$1
shift

exists=false
if "$fmactl" launcher get "$launcher" "$name" >/dev/null 2>&1; then exists=true; fi
if ! $exists && [ $# -eq 0 ]; then
  echo "swap-model: instance $name does not exist yet; give its vLLM options" >&2
  exit 64
fi

instances=$("$fmactl" launcher list "$launcher" -o json)
for other in $(python3 -c '
import json, sys
for i in json.loads(sys.argv[1]).get("instances", []):
    if i.get("status") == "RUNNING" and i.get("sleepState") != "SLEEPING":
        print(i["id"])' "$instances"); do
  if [ "$other" != "$name" ]; then
    echo "swap-model: putting $other to sleep"
    "$fmactl" launcher sleep "$launcher" "$other" >/dev/null
  fi
done

if $exists; then
  echo "swap-model: waking $name"
  "$fmactl" launcher wake "$launcher" "$name" >/dev/null
else
  gpus=${FMA_GPUS:-$("$fmactl" gpus list unix:/run/fma/gpu-inventory.sock -o json | python3 -c '
import json, sys
print(",".join(d["uuid"] for d in json.load(sys.stdin)["devices"]))')}
  gpu_flags=()
  IFS=, read -ra uuids <<< "$gpus"
  for uuid in "${uuids[@]}"; do gpu_flags+=(--gpu "$uuid"); done
  echo "swap-model: creating $name"
  "$fmactl" launcher create "$launcher" --id "$name" "${gpu_flags[@]}" --wait -- "$@" >/dev/null
fi
echo "swap-model: $name is serving"
