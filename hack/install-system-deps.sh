#!/usr/bin/env bash
# Debian packages the project needs beyond Go, npm and git: openssl (certificates for the local
# control plane), lua5.1 (the Argo CD health checks are Lua 5.1, tested with the interpreter), tmux
# (the session-recording e2e drives `kubectl exec -it` on a real pseudo-terminal), and zsh and fish
# (the plugin's completion scripts are tested in each shell they are for).
set -euo pipefail
missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v lua5.1 >/dev/null || missing+=(lua5.1)
command -v tmux >/dev/null || missing+=(tmux)
command -v zsh >/dev/null || missing+=(zsh)
command -v fish >/dev/null || missing+=(fish)
if ((${#missing[@]} > 0)); then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "installing ${missing[*]} with apt-get" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
