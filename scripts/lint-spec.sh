#!/usr/bin/env bash
# Lints openapi.yaml (or the file given) with Redocly CLI and the committed
# ruleset .redocly.yaml: fails on any error and on any warning.
set -euo pipefail
spec=$(realpath "${1:-$(dirname "$0")/../openapi.yaml}")
cd "$(dirname "$0")/.."
scripts/npm-ci.sh web/docs
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
redocly=web/docs/node_modules/.bin/redocly
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A misspelt rule would only be warned about and then ignored: check the
# ruleset itself first.
if ! "$redocly" check-config --config .redocly.yaml >"$tmp/config.out" 2>&1; then
  grep -v '[║╔╚]' "$tmp/config.out" >&2
  echo ".redocly.yaml is invalid" >&2
  exit 1
fi
status=0
"$redocly" lint --config .redocly.yaml --format=json "$spec" >"$tmp/lint.json" 2>"$tmp/lint.err" || status=$?
if ! totals=$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.totals.errors} ${r.totals.warnings} ${r.version}`);
' "$tmp/lint.json" 2>/dev/null); then
  echo "redocly lint failed (exit $status):" >&2
  grep -v '[║╔╚]' "$tmp/lint.err" >&2 || true
  exit 1
fi
read -r errors warnings version <<<"$totals"
if [ "$status" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$warnings" -ne 0 ]; then
  # Show the problems in the readable format.
  "$redocly" lint --config .redocly.yaml --format=stylish "$spec" 2>&1 | grep -v '[║╔╚]' >&2 || true
  echo "$(basename "$spec"): $errors errors, $warnings warnings (redocly $version, .redocly.yaml)" >&2
  exit 1
fi
echo "$(basename "$spec"): 0 errors, 0 warnings (redocly $version, .redocly.yaml)"
