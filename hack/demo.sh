#!/usr/bin/env bash
# The demo on the embedded local control plane: start it (building the binaries the first time),
# install the Airlock API, apply one sample of each kind, and show what to try next.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
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
k get accessgateways,accesspolicies,approvalrequests -A

step "The operator reconciles the sample AccessGateway (run here as a local process)"
bash hack/demo-operator.sh

step "A CI identity through an Airlock gateway (allowed, denied, held for approval, audited)"
node_modules/.bin/node hack/demo-gateway.ts

cat <<TXT

The control plane keeps running. Try:
  eval "\$(hack/cluster env)"                 # KUBECONFIG and the pinned kubectl (v$(grep K8S_VERSION hack/versions.env | cut -d= -f2))
  kubectl explain accesspolicy.spec.rules     # the API documents itself
  kubectl get airlock -A                      # every Airlock object (category "airlock")
  kubectl run shell --image=busybox -- sleep 1d && kubectl exec shell -- uname -a   # kwok runs it locally
  node hack/demo-gateway.ts --keep            # run the demo gateway and keep it up to try kubectl through it
  operator/cli/bin/kubectl-airlock sessions --recordings DIR   # the recorded sessions (DIR: printed by the demo)
  kill \$(cat .airlock/demo/operator.pid)     # stop the demo operator
  hack/cluster down                           # stop everything
TXT
