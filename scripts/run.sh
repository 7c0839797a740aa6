#!/usr/bin/env bash
# The one-machine default, as `make run` starts it: fma-devcluster (an HTTPS Kubernetes API
# server and a node simulator) with FMA_NODES simulated nodes of FMA_GPUS mock GPUs each, an
# fma-gpu-inventory pod per node, deploy/ applied as a real cluster gets it (overlay devcluster:
# CRDs, RBAC, fma-controller — the dual-pods controller and the launcher populator — as a pod
# under its own ServiceAccount, RBAC enforced), and deploy/examples: FMA's example custom resources (whose policy makes
# the populator start one launcher, fma-launcher with the fake vLLM, per GPU node) and then a
# ReplicaSet of one server-requesting Pod, which the controller serves warm in the launcher
# waiting on its node; and direct mode's ConfigMap gpu-map, so that
# deploy/examples/direct-requesters.yaml can be applied. It prints the KUBECONFIG
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

# The bearer token of fma's RPC between the controller, launchers and requesters: the Secret
# fma-rpc-token, made before deploy/ is applied (as in a production install).
kubectl create secret generic fma-rpc-token --from-literal=token="$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')" >/dev/null

# deploy/, as a real cluster gets it (overlay devcluster): CRDs, ServiceAccounts and RBAC
# (enforced for every pod's token), the fma-controller Deployment, LauncherConfig vllm-launcher,
# NetworkPolicy and admission policies. The controller runs as a pod under its ServiceAccount.
kubectl apply -k "$root/deploy/overlays/devcluster" >/dev/null
echo "run: waiting for fma-controller (deploy/fma-controller) to roll out…"
kubectl rollout status deploy/fma-controller --timeout=120s >/dev/null || {
  echo "run: fma-controller did not become available within 120 s; its log:" >&2
  kubectl logs deploy/fma-controller --tail=20 >&2 || true
  exit 1
}
controller_pod=$(kubectl get pods -l app.kubernetes.io/name=fma-controller -o jsonpath='{.items[0].metadata.name}')
controller_ip=$(kubectl get pod "$controller_pod" -o jsonpath='{.status.podIP}')

# FMA's example custom resources first: the LauncherPopulationPolicy makes the controller's
# populator start one launcher on every GPU node. Once those are Ready, the ReplicaSet of one
# server-requesting Pod: the controller serves it with a warm start (an instance forked in the
# launcher already waiting on its node).
examples=$root/deploy/examples
kubectl apply -f "$examples/inferenceserverconfig.yaml" -f "$examples/launcherconfig.yaml" \
  -f "$examples/launcherpopulationpolicy.yaml" >/dev/null
if [ "$gpus" -gt 0 ]; then
  echo "run: waiting for the populator's launchers (one per GPU node)…"
  for _ in $(seq 1200); do
    ready=$(kubectl get pods -l app.kubernetes.io/component=launcher \
      -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$' || true)
    [ "$ready" -ge "$nodes" ] && break
    kill -0 $cluster 2>/dev/null || { echo "run: fma-devcluster exited; see the messages above" >&2; exit 1; }
    sleep 0.1
  done
  [ "$ready" -ge "$nodes" ] || echo "run: only $ready of $nodes launchers turned Ready within 120 s; the first server may start cold" >&2
fi
kubectl apply -f "$examples/requesters.yaml" >/dev/null

# Direct mode's ConfigMap gpu-map: each node's GPU UUIDs → indices, from its fma-gpu-inventory.
if [ "$gpus" -gt 0 ]; then
  entries=()
  for i in $(seq "$nodes"); do
    socket=$run_dir/cluster/simulator/nodes/node-$i/gpu-inventory.sock
    entry=
    for _ in $(seq 600); do
      entry=$("$bin/fmactl" gpus map-entry "unix:$socket" 2>/dev/null) && break
      sleep 0.05
    done
    [ -n "$entry" ] || { echo "run: node-$i's fma-gpu-inventory did not answer within 30 s" >&2; exit 1; }
    entries+=("--from-literal=node-$i=$entry")
  done
  kubectl create configmap gpu-map "${entries[@]}" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
fi

echo "run: waiting for the pods to turn Ready (the first server starts warm)…"
for _ in $(seq 600); do
  not_ready=$(kubectl get pods -A -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -vc '^True$' || true)
  [ "$not_ready" = 0 ] && break
  kill -0 $cluster 2>/dev/null || { echo "run: fma-devcluster exited; see the messages above" >&2; exit 1; }
  sleep 0.1
done

cat <<MSG

fma-devcluster is serving $url (pid $cluster): $nodes nodes × $gpus mock GPUs
fma-controller (pod $controller_pod, from deploy/overlays/devcluster, under ServiceAccount
  fma-controller with RBAC enforced) serves server-requesting Pods and keeps a warm launcher on
  every GPU node (LauncherPopulationPolicy launcher-per-gpu-node); its log: kubectl logs deploy/fma-controller
  Prometheus metrics: $metrics (cluster), http://$controller_ip:8002/metrics (controller)

Use it from another terminal:
  export KUBECONFIG=$KUBECONFIG

  $bin/fmactl dual list                           # each requester, its launcher and instance, hot/warm/cold
  kubectl get pods -o wide -L dual-pods.llm-d.ai/dual,dual-pods.llm-d.ai/sleeping
  kubectl get events --field-selector reason=Actuated

  # Watch the three paths:
  kubectl scale rs fake-model-servers --replicas 0   # the instance goes to sleep in its launcher
  kubectl scale rs fake-model-servers --replicas 1   # hot: the sleeper on that GPU wakes
  kubectl scale rs fake-model-servers --replicas 4   # warm (room in a launcher) or cold (a new launcher)

  # Direct mode (a provider Pod made from the requester's own spec; ConfigMap gpu-map):
  kubectl apply -f $examples/direct-requesters.yaml
  kubectl scale rs fake-direct-servers --replicas 0   # the provider sleeps; back to 1: it wakes

  kubectl get isc,lcfg,lpp
  kubectl get lpp launcher-per-gpu-node -o jsonpath='{.status}'   # observedGeneration, errors
  kubectl label node node-2 fma.example/no-launchers=true   # see the policy's selector: node-2's launcher goes
  kubectl logs -l app.kubernetes.io/component=launcher
  $bin/fmactl gpus list unix:$run_dir/cluster/simulator/nodes/node-1/gpu-inventory.sock

Ctrl-C stops the cluster and every process its pods run (the controller's included).
MSG
wait $cluster
