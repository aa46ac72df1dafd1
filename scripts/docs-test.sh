#!/usr/bin/env bash
# Browser test of the API reference: installs Debian's chromium when it is
# missing, checks that the embedded Redoc bundle matches the locked npm
# version, builds the server and loads GET /docs in headless Chromium
# (playwright-core), which must render every operation of openapi.yaml from
# the server's own files. A screenshot goes to $DOCS_SCREENSHOT (default
# /tmp/docs.png).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-chromium.sh
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"
scripts/npm-ci.sh web/docs
node web/docs/build.mjs --check
go build -o bin/policyresults ./cmd/policyresults
POLICYRESULTS_BIN="$PWD/bin/policyresults" node --test web/docs/test/
