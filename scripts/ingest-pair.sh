#!/usr/bin/env bash
# Compares the ingest throughput of two commits by loading the demo
# organisation with both at the same time, each into its own fresh
# PostgreSQL database (BENCHMARKS.md, "Paired runs"). The machines this
# suite runs on are shared: one load after the other drifts by 10% and more
# between identical binaries, while two identical loads run at once land
# within 1% of each other, since both see the same machine.
#
#   scripts/ingest-pair.sh REV_A REV_B [100k|1m]
#
# REV_A and REV_B are git revisions (a branch, a commit, HEAD); the working
# tree is built for the revision "worktree". 100k (the default) takes about
# a minute and a half on two cores, 1m about twenty minutes. Environment:
# BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432). The databases
# policyresults_pair_a and policyresults_pair_b are dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
  echo "usage: $0 REV_A REV_B [100k|1m]" >&2
  exit 2
fi
pg="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
# shellcheck source=scripts/demo-sizes.sh
. scripts/demo-sizes.sh
# shellcheck source=scripts/build-rev.sh
. scripts/build-rev.sh
load_size "${3:-100k}" "size must be 100k or 1m"

tmp="$(mktemp -d)"
cleanup() {
  for side in a b; do
    remove_rev "$tmp/src-$side"
    PGOPTIONS=--client-min-messages=warning psql "$pg/postgres" -X -q -c "DROP DATABASE IF EXISTS policyresults_pair_$side" || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

build_rev "$1" "$tmp/bin-a" "$tmp/src-a"
build_rev "$2" "$tmp/bin-b" "$tmp/src-b"

# load SIDE: a fresh database, then the demo load; its summary lines.
load() {
  local db="policyresults_pair_$1"
  PGOPTIONS=--client-min-messages=warning psql "$pg/postgres" -X -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  "$tmp/bin-$1" demo --database-url "$pg/$db?sslmode=disable" "${size[@]}" --log-level warn 2>"$tmp/demo-$1.log" >/dev/null
}
load a &
pid_a=$!
load b &
pid_b=$!
wait "$pid_a"
wait "$pid_b"

for side in a b; do
  rev=$1
  [ "$side" = b ] && rev=$2
  echo "== $side: $rev"
  tr '\r' '\n' <"$tmp/demo-$side.log" | grep -E '^(run [0-9]+/[0-9]+: [0-9]+ evaluations|loaded)'
done
a="$(demo_rate "$tmp/demo-a.log")" b="$(demo_rate "$tmp/demo-b.log")"
echo "ingest b / a: $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }') ($b against $a violations/s)"
