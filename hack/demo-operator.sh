#!/usr/bin/env bash
# The operator part of the demo: run the operator on this machine against the local control plane
# (there is no image registry here, so not as a Deployment: `kubectl apply --server-side -k
# config/default` is how a cluster installs it), and show the sample AccessGateway reconciled into
# running gateway pods. Leaves the operator running in the background; its pid and log are in
# $AIRLOCK_DEMO_DIR (default .airlock/demo).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
demo="${AIRLOCK_DEMO_DIR:-$root/.airlock/demo}"
cluster="${AIRLOCK_CLUSTER_DIR:-$root/.airlock/cluster}"
k() { hack/cluster kubectl "$@"; }
mkdir -p "$demo"
running() { # the pid in the file is this demo's operator (not a recycled pid)
  [[ -f "$demo/operator.pid" ]] && tr '\0' ' ' < "/proc/$(cat "$demo/operator.pid")/cmdline" 2>/dev/null | grep -q 'operator/main.ts'
}
if running; then
  echo "the demo operator is already running (pid $(cat "$demo/operator.pid"), log $demo/operator.log)"
else
  KUBECONFIG="$cluster/kubeconfig" AIRLOCK_LEADER_ELECTION=false \
    AIRLOCK_HEALTH_ADDRESS=127.0.0.1:0 AIRLOCK_METRICS_ADDRESS=127.0.0.1:0 \
    nohup node_modules/.bin/node operator/main.ts > "$demo/operator.log" 2>&1 &
  echo $! > "$demo/operator.pid"
  echo "operator started (pid $!, log $demo/operator.log)"
fi
echo "waiting for AccessGateway airlock-system/ci-gateway to be Ready (kwok runs its pods)..."
if ! k wait --for=condition=Ready accessgateway/ci-gateway -n airlock-system --timeout=120s; then
  echo "the gateway did not become Ready; its status and the operator log:" >&2
  k describe accessgateway ci-gateway -n airlock-system >&2 || true
  tail -20 "$demo/operator.log" >&2
  exit 1
fi
k get accessgateway,deployment,pods,services,secrets -n airlock-system -l app.kubernetes.io/instance=ci-gateway
k get accessgateway ci-gateway -n airlock-system -o jsonpath='{range .status.conditions[*]}  {.type}={.status} ({.reason}): {.message}{"\n"}{end}'
