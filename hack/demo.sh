#!/usr/bin/env bash
# The demo on the embedded local control plane: start it (building the binaries the first time),
# install the Airlock API, apply the samples, run the operator and a gateway, and show what to try
# next. Rerunnable: a second run starts from the same state as the first (the demo's own objects
# are replaced), and everything it prints works as printed (e2e/demo.e2e.test.ts runs it twice and
# then runs every command it suggests).
#   AIRLOCK_CLUSTER_DIR  the control plane's directory (default .airlock/cluster)
#   AIRLOCK_DEMO_DIR     the demo's operator pid and log, recordings, keys (default .airlock/demo)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export AIRLOCK_DEMO_DIR="${AIRLOCK_DEMO_DIR:-$root/.airlock/demo}"
node_modules/.bin/node hack/print-runtime.ts
k() { hack/cluster kubectl "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Starting the local control plane (kube-apiserver, etcd, controller-manager, scheduler, kwok)"
hack/cluster up

step "Installing the Airlock API (crds/)"
k apply --server-side -f crds/
k wait --for condition=established --timeout=60s \
  crd/accessgateways.airlock.dev crd/accesspolicies.airlock.dev crd/approvalrequests.airlock.dev

step "Applying the samples (config/samples)"
k apply --server-side -k config/samples
k get accessgateways,accesspolicies -n airlock-system

step "The operator reconciles the sample AccessGateway (run here as a local process)"
bash hack/demo-operator.sh

step "A CI identity through an Airlock gateway (allowed, denied, held for approval, audited)"
node_modules/.bin/node hack/demo-gateway.ts

cat <<TXT

The control plane keeps running. From $root, try:
  eval "\$(hack/cluster env)"                 # KUBECONFIG; PATH with the pinned kubectl (v$(grep K8S_VERSION hack/versions.env | cut -d= -f2)), kubectl airlock and Node 24
  kubectl explain accesspolicy.spec.rules     # the API documents itself
  kubectl get airlock -A                      # every Airlock object (category "airlock")
  kubectl run shell --image=busybox --restart=Never -- sleep 1d && kubectl wait --for=condition=Ready pod/shell && kubectl exec shell -- uname -a   # kwok runs it locally
  kubectl airlock sessions --recordings $AIRLOCK_DEMO_DIR/recordings   # the session the demo recorded
  KUBECONFIG=$AIRLOCK_DEMO_DIR/alice.kubeconfig kubectl approve   # as alice, the demo's approver: what she may decide
  npm run demo:gateway -- --keep              # the demo again, keeping its gateway up to try kubectl through it (Ctrl-C stops it)
  kill \$(cat $AIRLOCK_DEMO_DIR/operator.pid)   # stop the demo operator
  hack/cluster down                           # stop everything
TXT
