#!/usr/bin/env bash
# Regenerates the TypeScript SDK's types, sdk/typescript/src/schema.ts, from
# openapi.yaml with openapi-typescript. With --check, regenerates into a
# scratch folder and fails when the committed file differs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/npm-ci.sh sdk/typescript
gen() { (cd sdk/typescript && node_modules/.bin/openapi-typescript ../../openapi.yaml --output "$1" >/dev/null); }
committed=sdk/typescript/src/schema.ts
if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  gen "$tmp/schema.ts"
  if ! diff -u "$committed" "$tmp/schema.ts" >"$tmp/diff"; then
    echo "$committed is stale against openapi.yaml; run 'make generate' and commit:" >&2
    head -40 "$tmp/diff" >&2
    exit 1
  fi
  echo "$committed is up to date with openapi.yaml"
else
  gen "$PWD/$committed"
  echo "regenerated $committed"
fi
