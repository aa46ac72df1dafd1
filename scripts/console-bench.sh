#!/usr/bin/env bash
# The console's benchmark (BENCHMARKS.md, "The console"): in Chromium, the
# time from navigation to the issue grid's first painted page and from a
# filter change to the filtered page, against a server with a large
# organisation.
#
#   scripts/console-bench.sh URL TOKEN [ORG]   against a running server
#                                              (e.g. the 1M benchmark database)
#   scripts/console-bench.sh                   loads the ~100k demo of
#                                              `make bench` into a scratch
#                                              SQLite database, serves it
#                                              and measures it
#
# CONSOLE_BENCH_RUNS sets the runs (default 5); CONSOLE_BENCH_SIZE=smoke
# loads the tiny demo instead (seconds, to check the script works).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-chromium.sh
scripts/npm-ci.sh web/console
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"
runs="${CONSOLE_BENCH_RUNS:-5}"
if [ $# -ge 2 ]; then
  exec node web/console/bench/console-bench.mjs "$1" "$2" "${3:-acme}" "$runs"
fi

# shellcheck source=scripts/demo-sizes.sh
. scripts/demo-sizes.sh
demo_size "${CONSOLE_BENCH_SIZE:-small}"
go build -o bin/policyresults ./cmd/policyresults
tmp="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
export DATABASE_URL="sqlite:$tmp/console-bench.db"
echo "loading the demo: ${size[*]}"
bin/policyresults demo "${size[@]}" >/dev/null 2>"$tmp/demo.log"
token=$(bin/policyresults token create --org acme --user alice)
port="${CONSOLE_BENCH_PORT:-18190}"
bin/policyresults serve --addr "127.0.0.1:$port" --rate-limit 0 --log-level warn 2>"$tmp/serve.log" &
pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.2
done
issues=$(curl -sf -H "Authorization: token $token" -X POST "http://127.0.0.1:$port/api/orgs/acme/policyresults/issues" -d '{"startRow":0,"endRow":1}' | sed -nE 's/.*"rowCount":([0-9]+).*/\1/p')
echo "serving $issues issues on SQLite"
# The server's own time for the grid's requests, for comparison (best of three).
for body in '{"startRow":0,"endRow":100}' '{"startRow":0,"endRow":100,"filterModel":{"severity":{"filterType":"set","values":["critical"]}}}' \
  '{"startRow":0,"endRow":100,"filterModel":{"severity":{"filterType":"set","values":["critical"]},"status":{"filterType":"set","values":["open"]}}}'; do
  best=$(for _ in 1 2 3; do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: token $token" -X POST "http://127.0.0.1:$port/api/orgs/acme/policyresults/issues" -d "$body"
  done | sort -n | head -1)
  echo "server: POST /issues $body: ${best}s"
done
node web/console/bench/console-bench.mjs "http://127.0.0.1:$port" "$token" acme "$runs"
