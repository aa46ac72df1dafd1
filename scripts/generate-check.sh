#!/usr/bin/env bash
# Regenerates gen/ into a scratch folder and fails when the committed files
# differ from what openapi.yaml produces.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for pkg in api client; do
  # oapi-codegen ignores -o when the config names an output, so point a copy
  # of the config at the scratch folder.
  sed "s|^output: .*|output: $tmp/$pkg.gen.go|" "gen/$pkg/config.yaml" >"$tmp/$pkg.yaml"
  go tool oapi-codegen -config "$tmp/$pkg.yaml" openapi.yaml
  if ! diff -u "gen/$pkg/$pkg.gen.go" "$tmp/$pkg.gen.go" >"$tmp/$pkg.diff"; then
    echo "gen/$pkg/$pkg.gen.go is stale against openapi.yaml; run 'make generate' and commit:" >&2
    head -40 "$tmp/$pkg.diff" >&2
    exit 1
  fi
done
echo "gen/ is up to date with openapi.yaml"
