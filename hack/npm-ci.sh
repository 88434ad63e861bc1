#!/usr/bin/env bash
# `npm ci` for hack/test and hack/demo. npm runs on this machine's Node; where that is not 24 it
# prints a five-line EBADENGINE block for every package that asks for a newer Node (the project
# itself, a few dev tools), which reads as a failure. They are not one: `npm ci` installs the
# project's own Node 24 (the npm package `node`) and every script runs on it. So the blocks are
# folded into one line that still names each package and the Node it asks for. Everything else
# npm prints, and its exit status, pass through unchanged.
set -euo pipefail
fold_engine_notices() {
  awk -v machine="$(node --version 2>/dev/null || echo unknown)" '
    /^npm warn EBADENGINE +package:/ { p = $0; sub(/.*package: \x27/, "", p); sub(/\x27.*/, "", p); next }
    /^npm warn EBADENGINE +required:/ { r = $0; sub(/.*node: \x27/, "", r); sub(/\x27.*/, "", r); asks[++n] = p " (" r ")"; next }
    /^npm warn EBADENGINE/ { next }
    { print; fflush() }
    END {
      if (n == 0) exit
      list = asks[1]; for (i = 2; i <= n; i++) list = list ", " asks[i]
      printf "npm ci: %s for a newer Node than this machine'\''s %s: %s. ", (n == 1 ? "1 package asks" : n " packages ask"), machine, list
      printf "That is expected: every script runs on the project'\''s own Node 24 (node_modules/.bin/node).\n"
    }'
}
{ npm ci "$@" 2>&1 1>&3 3>&- | fold_engine_notices >&2; } 3>&1
