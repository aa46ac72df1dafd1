#!/usr/bin/env bash
# Compares the server of two revisions on the same 1M-issue data, in one
# sitting, alternating A B A B ... so that drift of the machine falls on
# both (BENCHMARKS.md, "Paired runs").
#
#   scripts/bench-compare.sh BASE_REV [ROUNDS]
#
# A is BASE_REV (built in a temporary worktree), B the working tree. Every
# run gets a fresh copy of a template database loaded once with the
# benchmark's 1M organisation (BENCH_TEMPLATE, default
# policyresults_bench1m_pristine; built with this tree's `policyresults
# demo` when missing). Both servers are driven by this tree's load
# generator with the same seed, so only the server differs. Prints each
# kind's p50 and p99 per run and B's median over A's; JSON per run in
# BENCH_OUT (default bench-results/compare).
#
# Environment: BENCH_PG_URL, BENCH_PORT, BENCH_DURATION (default 60s),
# BENCH_CLIENTS (default 4) as scripts/bench.sh; BENCH_KINDS, a
# comma-separated subset of the request kinds (default the whole mix); BENCH_SIZE (full, small or
# smoke; default full) sizes a template it has to load.
set -euo pipefail
cd "$(dirname "$0")/.."

base="${1:?usage: $0 BASE_REV [ROUNDS]}"
rounds="${2:-2}"
pg="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
port="${BENCH_PORT:-18181}"
out="${BENCH_OUT:-bench-results/compare}"
template="${BENCH_TEMPLATE:-policyresults_bench1m_pristine}"
duration="${BENCH_DURATION:-60s}"
clients="${BENCH_CLIENTS:-4}"
kinds=()
if [ -n "${BENCH_KINDS:-}" ]; then kinds=(--kinds "$BENCH_KINDS"); fi
db=policyresults_bench1m_compare

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  git worktree remove --force "$tmp/base" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

psql_admin() { PGOPTIONS=--client-min-messages=warning psql "$pg/postgres" -X -q -v ON_ERROR_STOP=1 -c "$1"; }

mkdir -p "$out" bin
rm -f "$out"/a-*.json "$out"/b-*.json
git worktree add --detach "$tmp/base" "$base" >/dev/null
(cd "$tmp/base" && go build -o "$tmp/server-a" ./cmd/policyresults)
go build -o "$tmp/server-b" ./cmd/policyresults
go build -o bin/policyresults-bench ./cmd/policyresults-bench

# shellcheck source=scripts/demo-sizes.sh
. scripts/demo-sizes.sh
if ! psql "$pg/$template" -X -q -tAc "SELECT 1" >/dev/null 2>&1; then
  echo "loading $template (${BENCH_SIZE:-full}: the 1M organisation takes tens of minutes)"
  demo_size "${BENCH_SIZE:-full}"
  psql_admin "CREATE DATABASE $template"
  "$tmp/server-b" demo --database-url "$pg/$template?sslmode=disable" "${size[@]}" --log-level warn >"$out/$template.token" 2>"$tmp/demo.log"
  psql "$pg/$template" -X -q -c "VACUUM ANALYZE"
fi
if [ ! -s "$out/$template.token" ]; then
  "$tmp/server-b" token create --database-url "$pg/$template?sslmode=disable" --org acme --user alice >"$out/$template.token"
fi
token="$(cat "$out/$template.token")"

run() { # run LABEL N
  local label=$1 n=$2
  psql_admin "DROP DATABASE IF EXISTS $db"
  psql_admin "CREATE DATABASE $db TEMPLATE $template"
  "$tmp/server-$label" serve --database-url "$pg/$db?sslmode=disable" --addr "127.0.0.1:$port" --rate-limit 0 --log-level warn >"$tmp/server.log" 2>&1 &
  server_pid=$!
  # Migrations the base lacks (a backfill, say) run before the server answers.
  for _ in $(seq 1 3000); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log" >&2; return 1; }
    sleep 0.2
  done
  echo "== run $n: ${label^^}"
  bin/policyresults-bench --url "http://127.0.0.1:$port" --org acme --token "$token" --clients "$clients" \
    --duration "$duration" "${kinds[@]}" --warmup 10s --naive-samples 0 --export=false --server-pid "$server_pid" \
    --json "$out/$label-$n.json" --log-level error >"$tmp/bench.txt"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

for n in $(seq 1 "$rounds"); do
  run a "$n"
  run b "$n"
done
psql_admin "DROP DATABASE IF EXISTS $db"

# Each kind: p50 and p99 of every run, then the median of B's over the median of A's.
jq -rs '
  def median: sort | if length % 2 == 1 then .[length/2|floor] else (.[length/2-1] + .[length/2]) / 2 end;
  (map(select(.label == "a")) | map(.r)) as $a | (map(select(.label == "b")) | map(.r)) as $b |
  ($a[0].kinds | keys[]) as $k |
  [$k,
   ($a | map(.kinds[$k].p99_ms) | median), ($b | map(.kinds[$k].p99_ms) | median),
   (($b | map(.kinds[$k].p99_ms) | median) / ($a | map(.kinds[$k].p99_ms) | median)),
   ($a | map(.kinds[$k].p50_ms) | median), ($b | map(.kinds[$k].p50_ms) | median),
   (($b | map(.kinds[$k].p50_ms) | median) / ($a | map(.kinds[$k].p50_ms) | median))]
  | "\(.[0])\tp99 A \(.[1]*10|round/10) B \(.[2]*10|round/10) B/A \(.[3]*100|round/100)\tp50 A \(.[4]*10|round/10) B \(.[5]*10|round/10) B/A \(.[6]*100|round/100)"
' <(for f in "$out"/a-*.json "$out"/b-*.json; do
  jq -c --arg l "$(basename "$f" | cut -d- -f1)" '{label: $l, r: .}' "$f"
done) | column -t -s $'\t'
