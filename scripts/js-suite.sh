#!/usr/bin/env bash
# The non-Go part of `make test`: the spec lint, the TypeScript SDK tests, the
# /docs browser test and the console's tests (unit and browser). They need Node.js; on a machine with only Go they
# are skipped with a note, except in CI (CI=true), where they must run.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "Node.js and npm are needed for the spec lint, SDK, docs and console tests" >&2
    exit 1
  fi
  echo "note: Node.js is not installed; skipping the spec lint, the TypeScript SDK, the /docs and the console tests"
  exit 0
fi
scripts/lint-spec.sh
scripts/sdk-test.sh
scripts/docs-test.sh
scripts/console-test.sh
