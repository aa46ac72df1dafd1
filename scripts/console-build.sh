#!/usr/bin/env bash
# Builds the web console (web/console, Vite) into web/console/dist/
# (committed, embedded into the binary by web/console/console.go). The
# console compiles the TypeScript SDK from its sources, so both packages'
# dependencies are installed from their lock files. With --check, builds into
# a scratch folder and fails when the committed dist/ differs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/npm-ci.sh sdk/typescript
scripts/npm-ci.sh web/console
node web/console/build.mjs "$@"
