#!/usr/bin/env bash
# Builds the local control plane (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
# etcd, kwok) from their Go modules into a cache directory keyed by every version, the Go version
# and the platform. Builds go to a temp dir and are moved into place atomically under a lock, so a
# second run (or a concurrent one) costs nothing. Prints the bin directory on stdout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
log() { printf 'airlock-build: %s\n' "$*" >&2; }

go_version=$(go env GOVERSION)
platform="$(go env GOOS)-$(go env GOARCH)"
key_src="k8s=$K8S_VERSION etcd=$ETCD_VERSION kwok=$KWOK_VERSION go=$go_version platform=$platform recipe=$RECIPE_REVISION"
key=$(printf '%s' "$key_src" | sha256sum | cut -c1-16)
cache_root=${AIRLOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/airlock}
dest="$cache_root/k8s-testbin/$K8S_VERSION-$platform-$key"
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)

complete() {
  local d=$1 b
  for b in "${binaries[@]}"; do [[ -x "$d/bin/$b" ]] || return 1; done
  [[ -d "$d/stages" ]]
}

if complete "$dest"; then echo "$dest"; exit 0; fi
mkdir -p "$cache_root/k8s-testbin"
exec 9>"$cache_root/k8s-testbin/.lock"
flock 9
if complete "$dest"; then echo "$dest"; exit 0; fi

log "building into $dest ($key_src); a cold build takes several minutes"
tmp=$(mktemp -d "$cache_root/k8s-testbin/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/stages" "$tmp/work"
started=$(date +%s)

build_kubernetes() {
  local w="$tmp/work/k8s" minor=${K8S_VERSION#1.}; minor=${minor%%.*}
  local staging_version="v0.${K8S_VERSION#1.}"
  mkdir -p "$w" && cd "$w"
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  go mod init local/airlock-k8sbins >/dev/null 2>&1
  go mod edit -go="$(go env GOVERSION | sed 's/^go//')"
  # Non-staging replaces in k8s.io/kubernetes would be lost in a wrapper module: copy them.
  local m
  while read -r m; do
    [[ -n "$m" ]] && go mod edit -replace="$m"
  done < <(sed -n 's#^[[:space:]]*\([^ ]*\) => \([^.][^ ]*\) \(v[^ ]*\)$#\1=\2@\3#p' "$gomod")
  # Every staging module is replaced by a local path upstream; pin the published v0.x.y instead.
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*#\1#p' "$gomod"); do
    go mod edit -replace="$m=$m@$staging_version"
  done
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl) c pkgs=() gets=()
  for c in "${cmds[@]}"; do
    pkgs+=("k8s.io/kubernetes/cmd/$c"); gets+=("k8s.io/kubernetes/cmd/$c@v$K8S_VERSION")
  done
  go get "${gets[@]}"
  local ldflags="-s -w" kv
  for kv in "gitVersion=v$K8S_VERSION" gitMajor=1 "gitMinor=$minor" gitTreeState=clean \
            "gitCommit=airlock-module-build" "buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; do
    ldflags="$ldflags -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
  done
  go build -trimpath -ldflags "$ldflags" -o "$tmp/bin/" "${pkgs[@]}"
}

build_etcd() {
  local w="$tmp/work/etcd"
  mkdir -p "$w" && cd "$w"
  go mod init local/airlock-etcdbin >/dev/null 2>&1
  go mod edit -go="$(go env GOVERSION | sed 's/^go//')"
  go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
  go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-v$ETCD_VERSION" \
    -o "$tmp/bin/etcd" go.etcd.io/etcd/server/v3
}

build_kwok() {
  GOBIN="$tmp/bin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  local src
  src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@v$KWOK_VERSION/kustomize/stage"
  cp -r "$src/." "$tmp/stages/"
  chmod -R u+w "$tmp/stages"
}

# Sequential on purpose: two concurrent k8s link steps need more memory than 2 cores benefit from.
( build_etcd ) && log "etcd built ($(( $(date +%s) - started ))s)"
( build_kwok ) && log "kwok built ($(( $(date +%s) - started ))s)"
( build_kubernetes ) && log "kubernetes built ($(( $(date +%s) - started ))s)"

"$tmp/bin/kube-apiserver" --version >&2
"$tmp/bin/etcd" --version | head -1 >&2
rm -rf "$tmp/work"
printf '%s\n' "$key_src" > "$tmp/KEY"
printf '%s\n' "$(( $(date +%s) - started ))" > "$tmp/BUILD_SECONDS"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
log "done in $(( $(date +%s) - started ))s"
echo "$dest"
