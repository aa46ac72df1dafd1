#!/usr/bin/env bash
# The non-Go part of `make test`: the spec lint, the TypeScript SDK tests and
# the /docs browser test. They need Node.js; on a machine with only Go they
# are skipped with a note, except in CI (CI=true), where they must run.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "Node.js and npm are needed for the spec lint, SDK and docs tests" >&2
    exit 1
  fi
  echo "note: Node.js is not installed; skipping the spec lint, the TypeScript SDK and the /docs tests"
  exit 0
fi
scripts/lint-spec.sh
scripts/sdk-test.sh
scripts/docs-test.sh
