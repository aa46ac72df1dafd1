#!/usr/bin/env bash
# The benchmark suite (BENCHMARKS.md). For each database: create it, load
# the demo organisation through the real ingest path (policyresults demo),
# start the server, run the load generator (policyresults-bench, a binary
# of its own), stop everything.
#
#   scripts/bench.sh smoke   seconds: a tiny organisation and two seconds of
#                            load on SQLite and PostgreSQL; checks the suite
#                            works (CI), asserts no speed
#   scripts/bench.sh small   make bench: ~100,000 issues on SQLite and on
#                            PostgreSQL, 30 s of load each (a few minutes)
#   scripts/bench.sh full    make bench-full: ~1,000,000 issues on
#                            PostgreSQL, 60 s of load. The database
#                            (policyresults_bench1m) is kept and reused by
#                            the next run; BENCH_RELOAD=1 rebuilds it.
#
# Environment: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432),
# BENCH_PORT (default 18180), BENCH_OUT (JSON results, default
# bench-results), BENCH_DURATION and BENCH_CLIENTS override the mix's
# length and concurrency. PostgreSQL is skipped in smoke and small mode
# when it does not answer (unless CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-small}"
pg="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
port="${BENCH_PORT:-18180}"
out="${BENCH_OUT:-bench-results}"
clients="${BENCH_CLIENTS:-4}"
bin=bin/policyresults
bench=bin/policyresults-bench

case "$mode" in
smoke)
  backends="sqlite postgres"
  duration="${BENCH_DURATION:-2s}" warmup=0s naive=2 views=1 pgdb=policyresults_bench_smoke deep_duration=1s
  ;;
small)
  backends="sqlite postgres"
  duration="${BENCH_DURATION:-30s}" warmup=5s naive=8 views=3 pgdb=policyresults_bench deep_duration=15s
  ;;
full)
  backends="postgres"
  duration="${BENCH_DURATION:-60s}" warmup=10s naive=12 views=5 pgdb=policyresults_bench1m deep_duration=30s
  ;;
*)
  echo "usage: $0 smoke|small|full" >&2
  exit 2
  ;;
esac
# shellcheck source=scripts/demo-sizes.sh
. scripts/demo-sizes.sh
demo_size "$mode"

go build -o "$bin" ./cmd/policyresults
go build -o "$bench" ./cmd/policyresults-bench
mkdir -p "$out"
tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

pg_up() { pg_isready -d "$pg/postgres" -q 2>/dev/null; }

# psql_admin runs one statement on the server's maintenance database.
psql_admin() { PGOPTIONS=--client-min-messages=warning psql "$pg/postgres" -X -q -v ON_ERROR_STOP=1 -c "$1"; }

# start_server URL: serves the database and waits until it answers.
start_server() {
  "$bin" serve --database-url "$1" --addr "127.0.0.1:$port" --rate-limit 0 --log-level warn >"$tmp/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      cat "$tmp/server.log" >&2
      echo "the server did not start" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "the server did not answer in 20 s" >&2
  return 1
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

status=0
for backend in $backends; do
  echo
  echo "== $mode: $backend"
  reuse=false
  case "$backend" in
  sqlite)
    url="sqlite:$tmp/bench.db"
    ;;
  postgres)
    if ! pg_up; then
      if [ "${CI:-}" = true ] || [ "$mode" = full ]; then
        echo "PostgreSQL does not answer at $pg" >&2
        exit 1
      fi
      echo "PostgreSQL does not answer at $pg: skipped"
      continue
    fi
    url="$pg/$pgdb?sslmode=disable"
    if [ "$mode" = full ] && [ "${BENCH_RELOAD:-}" != 1 ] && [ -f "$out/$pgdb.token" ] &&
      psql "$pg/$pgdb" -X -q -tAc "SELECT 1 FROM organizations WHERE name = 'acme'" 2>/dev/null | grep -q 1; then
      reuse=true
      echo "reusing $pgdb (BENCH_RELOAD=1 rebuilds it); ingest figures are those of the run that built it"
    else
      psql_admin "DROP DATABASE IF EXISTS $pgdb"
      psql_admin "CREATE DATABASE $pgdb"
    fi
    ;;
  esac

  if [ "$reuse" = true ]; then
    token="$(cat "$out/$pgdb.token")"
    # Each run's mix writes (evaluations, triage). Where autovacuum is off
    # (CI machines set autovacuum = off), nothing would vacuum and analyze
    # those writes before the next run; do what autovacuum would have done.
    if [ "$(psql "$pg/$pgdb" -X -q -tAc "SHOW autovacuum")" = off ]; then
      echo "autovacuum is off on this server: VACUUM ANALYZE before the mix, as autovacuum would have"
      psql "$pg/$pgdb" -X -q -c "VACUUM ANALYZE"
    fi
  else
    # The token goes to stdout, the progress bar and throughput to stderr.
    "$bin" demo --database-url "$url" "${size[@]}" --log-level warn 2>"$tmp/demo.log" >"$tmp/token"
    tr '\r' '\n' <"$tmp/demo.log" | grep -E '^(run [0-9]+/[0-9]+: [0-9]+ evaluations|loaded)' | tee "$out/$mode-$backend-load.txt"
    token="$(cat "$tmp/token")"
    if [ "$backend" = postgres ]; then
      # What autovacuum does after a bulk load, done now so the measurement
      # does not depend on when it runs: statistics and the visibility map
      # (index-only scans).
      psql "$pg/$pgdb" -X -q -c "VACUUM ANALYZE"
      if [ "$mode" = full ]; then
        cp "$tmp/token" "$out/$pgdb.token"
      fi
    fi
  fi

  start_server "$url"
  if ! "$bench" --url "http://127.0.0.1:$port" --org acme --token "$token" --clients "$clients" \
    --duration "$duration" --warmup "$warmup" --naive-samples "$naive" --view-samples "$views" --server-pid "$server_pid" \
    --database-url "$url" --json "$out/$mode-$backend.json" --log-level error; then
    status=1
  fi
  # Deep pages under broad filters, alone (not in the mix).
  echo "deep pages under broad filters (grid.deep.filtered alone):"
  if ! "$bench" --url "http://127.0.0.1:$port" --org acme --token "$token" --clients "$clients" \
    --duration "$deep_duration" --warmup 0s --naive-samples "$naive" --server-pid "$server_pid" --export=false \
    --kinds grid.deep.filtered --database-url "$url" --json "$out/$mode-$backend-deep.json" --log-level error; then
    status=1
  fi
  stop_server

  if [ "$backend" = postgres ] && [ "$mode" != full ]; then
    psql_admin "DROP DATABASE IF EXISTS $pgdb"
  fi
done
exit $status
