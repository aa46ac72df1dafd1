#!/usr/bin/env bash
# Compares the schemas two revisions' migrations build: each revision's
# binary migrates a fresh SQLite file and a fresh PostgreSQL database
# (`policyresults migrate`), each schema is dumped in a normalised form and
# the dumps are compared. It shows that a change to the migrations (folding
# them into a baseline, reordering a file) leaves the schema as it was.
#
#   scripts/schema-diff.sh REV_A REV_B
#
# REV_A and REV_B are git revisions, or "worktree" for the working tree.
# The dumps leave out goose's version tables (bookkeeping, not schema):
#
#   PostgreSQL  pg_dump --schema-only: tables and their columns in order,
#               types, defaults, NOT NULL, constraints, index definitions,
#               storage options, functions, triggers, extensions;
#               comments, SET lines and the dump's random \restrict
#               keys dropped
#   SQLite      sqlite_master (which is the whole schema) by type and name,
#               each statement with its comments dropped and its whitespace
#               collapsed
#
# Exits 0 when both pairs are identical, 1 with a diff otherwise.
# Environment: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432).
# The databases policyresults_schema_a and policyresults_schema_b are
# dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ]; then
  echo "usage: $0 REV_A REV_B" >&2
  exit 2
fi
pg="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
# shellcheck source=scripts/build-rev.sh
. scripts/build-rev.sh

tmp="$(mktemp -d)"
psql_admin() { PGOPTIONS=--client-min-messages=warning psql "$pg/postgres" -X -q -v ON_ERROR_STOP=1 -c "$1"; }
cleanup() {
  for side in a b; do
    remove_rev "$tmp/src-$side"
    psql_admin "DROP DATABASE IF EXISTS policyresults_schema_$side" || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

build_rev "$1" "$tmp/bin-a" "$tmp/src-a"
build_rev "$2" "$tmp/bin-b" "$tmp/src-b"

# normalise_sql: drops -- comments and collapses whitespace, one statement
# a line (statements are separated by a line holding only ";;").
normalise_sql() {
  awk '
    /^;;$/ { gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); print s; s = ""; next }
    { sub(/--.*$/, ""); s = s " " $0 }
  '
}

# dump SIDE: migrates fresh databases with SIDE's binary and writes their
# normalised schemas to $tmp/SIDE.pg and $tmp/SIDE.sqlite.
dump() {
  local db="policyresults_schema_$1"
  psql_admin "DROP DATABASE IF EXISTS $db"
  psql_admin "CREATE DATABASE $db"
  "$tmp/bin-$1" migrate --database-url "$pg/$db?sslmode=disable" --log-level warn >/dev/null
  pg_dump --schema-only --no-owner --no-privileges --exclude-table='goose_*' "$pg/$db" |
    grep -vE '^(--|SET |SELECT pg_catalog\.set_config|\\(un)?restrict |$)' >"$tmp/$1.pg"

  "$tmp/bin-$1" migrate --database-url "sqlite:$tmp/$1.db" --log-level warn >/dev/null
  sqlite3 "$tmp/$1.db" "SELECT type || ' ' || name || ' ON ' || tbl_name || ': ' || COALESCE(sql, '(automatic)') || char(10) || ';;'
    FROM sqlite_master WHERE name NOT LIKE 'goose%' ORDER BY type, name" | normalise_sql >"$tmp/$1.sqlite"
}
dump a
dump b

status=0
for kind in pg sqlite; do
  if diff -u --label "$1 ($kind)" --label "$2 ($kind)" "$tmp/a.$kind" "$tmp/b.$kind"; then
    echo "$kind: identical ($(wc -l <"$tmp/a.$kind") lines of normalised schema)"
  else
    status=1
  fi
done
exit $status
