#!/usr/bin/env bash
# Measures how fast this machine can ingest the demo load at all
# (docs/performance.md, "What bounds ingest"): the same load, one after the
# other, each into a fresh PostgreSQL database, under three schemas:
#
#   built      the migrations as they are
#   no-index   without any secondary index of the issues (the unique key
#              and the primary key stay: ingest needs them)
#   no-fk      as no-index, and without the four foreign keys that are
#              checked for every ingested issue, history row, resource and
#              policy outcome
#
# The read targets need the indexes (without them a grid page is the naive
# SQL, 0.1-2.5 s at 1M), and the foreign keys keep the data whole, so the
# last two are not configurations to run: they show what ingest costs
# without them, on this machine, in the same hour.
#
#   scripts/ingest-bound.sh [100k|1m] [rounds]
#
# 100k (the default) takes about a minute a round on two cores, 1m about
# ten. Environment: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432).
# The database policyresults_bound is dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

pg="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
# shellcheck source=scripts/demo-sizes.sh
. scripts/demo-sizes.sh
load_size "${1:-100k}" "usage: $0 [100k|1m] [rounds]"
rounds="${2:-1}"
db=policyresults_bound
url="$pg/$db?sslmode=disable"

tmp="$(mktemp -d)"
psql_db() { PGOPTIONS=--client-min-messages=warning psql "$pg/$1" -X -q -v ON_ERROR_STOP=1 "${@:2}"; }
cleanup() {
  psql_db postgres -c "DROP DATABASE IF EXISTS $db" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/policyresults" ./cmd/policyresults

# load SCHEMA: a fresh, migrated database cut down to SCHEMA, then the demo
# load; prints its throughput.
load() {
  psql_db postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  "$tmp/policyresults" migrate --database-url "$url" --log-level warn >/dev/null
  if [ "$1" != built ]; then
    psql_db "$db" -f scripts/drop-issue-indexes.sql
  fi
  if [ "$1" = no-fk ]; then
    psql_db "$db" \
      -c "ALTER TABLE policy_issues DROP CONSTRAINT policy_issues_org_id_entity_ref_fkey" \
      -c "ALTER TABLE issue_history DROP CONSTRAINT issue_history_org_id_fkey" \
      -c "ALTER TABLE resources DROP CONSTRAINT resources_org_id_entity_id_fkey" \
      -c "ALTER TABLE policy_outcomes DROP CONSTRAINT policy_outcomes_org_id_entity_id_fkey"
  fi
  "$tmp/policyresults" demo --database-url "$url" "${size[@]}" --log-level warn 2>"$tmp/demo.log" >/dev/null
  demo_rate "$tmp/demo.log"
}

for round in $(seq 1 "$rounds"); do
  built="$(load built)"
  no_index="$(load no-index)"
  no_fk="$(load no-fk)"
  awk -v r="$round" -v a="$built" -v b="$no_index" -v c="$no_fk" 'BEGIN {
    printf "round %d: built %d, no-index %d (%.2fx), no-fk %d (%.2fx) violations/s\n", r, a, b, b / a, c, c / a
  }'
done
