#!/usr/bin/env bash
# Tests the TypeScript SDK end to end: builds the server, installs the SDK's
# dependencies from its lock file, compiles the SDK and its tests with tsc and
# runs them with Node's test runner against `policyresults serve --demo` on an
# empty SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/policyresults ./cmd/policyresults
scripts/npm-ci.sh sdk/typescript
cd sdk/typescript
rm -rf dist-test
# One compilation checks the SDK (with its declarations) and the tests.
node_modules/.bin/tsc -p tsconfig.test.json
POLICYRESULTS_BIN="$PWD/../../bin/policyresults" node --test dist-test/test/*.test.js
