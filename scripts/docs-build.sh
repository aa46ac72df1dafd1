#!/usr/bin/env bash
# Copies Redoc's standalone bundle from web/docs/node_modules into
# web/docs/dist/ (committed, embedded into the binary by web/docs/docs.go).
# With --check, fails when the committed dist/ differs from what the locked
# redoc version gives.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/npm-ci.sh web/docs
node web/docs/build.mjs "$@"
