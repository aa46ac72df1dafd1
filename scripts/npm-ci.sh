#!/usr/bin/env bash
# Usage: scripts/npm-ci.sh DIR
# Installs DIR's node_modules with `npm ci`, exactly from its committed
# package-lock.json, unless they were already installed from this very
# package.json and lock file (a stamp in node_modules records which).
set -euo pipefail
dir=${1:?usage: scripts/npm-ci.sh DIR}
stamp="$dir/node_modules/.policyresults-npm-ci"
if [ -f "$stamp" ] && cat "$dir/package.json" "$dir/package-lock.json" | cmp -s - "$stamp"; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm is not installed (Node.js 20 or later is needed)" >&2; exit 1; }
echo "npm ci in $dir"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
cat "$dir/package.json" "$dir/package-lock.json" >"$stamp"
