#!/usr/bin/env bash
# The one-machine default, as `make run` starts it: fma-devcluster (an HTTPS Kubernetes API
# server and a node simulator) with FMA_NODES simulated nodes of FMA_GPUS mock GPUs each, an
# fma-gpu-inventory pod per node, FMA's example custom resources from deploy/examples, and a
# launcher pod (fma-launcher with the fake vLLM preloaded) on node-1. It prints the KUBECONFIG
# line and commands to try, serves until Ctrl-C, then stops everything it started (the
# devcluster stops every pod's processes on its way out).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${FMA_BIN_DIR:-$root/.build/debug}
run_dir=${FMA_RUN_DIR:-/tmp/fma-run}
nodes=${FMA_NODES:-2}
gpus=${FMA_GPUS:-4}
mkdir -p "$run_dir"
chmod 700 "$run_dir"
rm -rf "$run_dir/cluster" "$run_dir/launcher"
rm -f "$run_dir/cluster.ready"

"$bin/fma-devcluster" serve --state-dir "$run_dir/cluster" --nodes "$nodes" --gpus-per-node "$gpus" \
  --gpu-inventories --metrics-listen tcp://127.0.0.1:0 --ready-file "$run_dir/cluster.ready" &
cluster=$!
trap 'kill -TERM $cluster 2>/dev/null; wait $cluster 2>/dev/null' EXIT INT TERM

for _ in $(seq 600); do
  [ -f "$run_dir/cluster.ready" ] && break
  kill -0 $cluster 2>/dev/null || { echo "run: fma-devcluster exited; see the messages above" >&2; exit 1; }
  sleep 0.05
done
[ -f "$run_dir/cluster.ready" ] || { echo "run: fma-devcluster did not become ready within 30 s" >&2; exit 1; }
url=$(sed -n 1p "$run_dir/cluster.ready")
export KUBECONFIG=$(sed -n 2p "$run_dir/cluster.ready")
metrics=$(sed -n 3p "$run_dir/cluster.ready")

kubectl apply -f "$root/deploy/examples" >/dev/null

# A launcher on node-1: the kubelet of the simulator runs it as a real process on the pod's
# own loopback address; its GPU UUIDs are translated by node-1's inventory.
node_dir="$run_dir/cluster/simulator/nodes/node-1"
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: launcher-demo
  labels:
    app.kubernetes.io/name: fma-launcher
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 10
  containers:
  - name: inference-server
    image: fma/launcher:dev
    command: ["fma-launcher", "serve", "--listen", "unix:$run_dir/launcher/launcher.sock",
              "--state-dir", "$run_dir/launcher", "--python-path", "$root/python",
              "--entrypoint", "fma_fakevllm", "--preload", "fma_fakevllm.server",
              "--gpu-inventory", "unix:$node_dir/gpu-inventory.sock",
              "--rest-host", "\$(POD_IP)", "--rest-port", "8001"]
    ports:
    - name: launcher
      containerPort: 8001
    readinessProbe:
      httpGet: {path: /health, port: launcher}
      periodSeconds: 1
YAML

echo "run: waiting for the pods to turn Ready…"
for _ in $(seq 600); do
  not_ready=$(kubectl get pods -A -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -vc '^True$' || true)
  [ "$not_ready" = 0 ] && break
  kill -0 $cluster 2>/dev/null || { echo "run: fma-devcluster exited; see the messages above" >&2; exit 1; }
  sleep 0.1
done
pod_ip=$(kubectl get pod launcher-demo -o jsonpath='{.status.podIP}')

cat <<MSG

fma-devcluster is serving $url (pid $cluster): $nodes nodes × $gpus mock GPUs
  Prometheus metrics: $metrics

Use it from another terminal:
  export KUBECONFIG=$KUBECONFIG

  kubectl get nodes
  kubectl get pods -A -o wide
  kubectl get isc,lcfg,lpp
  kubectl describe node node-1
  kubectl logs launcher-demo -f

  $bin/fmactl gpus list unix:$node_dir/gpu-inventory.sock
  $bin/fmactl launcher create unix:$run_dir/launcher/launcher.sock --id demo \\
      --gpu \$($bin/fmactl gpus list unix:$node_dir/gpu-inventory.sock -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"][0]["uuid"])') \\
      --wait -- --host $pod_ip --port 8005
  $bin/fmactl launcher list unix:$run_dir/launcher/launcher.sock
  curl -s http://$pod_ip:8001/v2/vllm/instances
  curl -s http://$pod_ip:8005/v1/models

  kubectl delete pod launcher-demo     # SIGTERM to the launcher, which stops its instances

Ctrl-C stops the cluster and every process its pods run.
MSG
wait $cluster
