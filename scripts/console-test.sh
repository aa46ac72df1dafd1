#!/usr/bin/env bash
# Tests the web console: the unit tests of its pure logic (vitest), then
# every page in headless Chromium (playwright-core) against
# `policyresults serve --demo` on a fresh SQLite database (or, with
# CONSOLE_DATABASE_URL, an empty PostgreSQL database). Installs Debian's
# chromium when it is missing, checks that the embedded dist/ matches the
# sources, and builds the server. Screenshots go to $CONSOLE_SCREENSHOTS
# when it names a folder.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-chromium.sh
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"
scripts/console-build.sh --check
(cd web/console && node_modules/.bin/tsc -p tsconfig.json --noEmit && node_modules/.bin/vitest run)
go build -o bin/policyresults ./cmd/policyresults
POLICYRESULTS_BIN="$PWD/bin/policyresults" node --test --test-concurrency=1 web/console/test/console.test.mjs
